{{ verification_code }} is your {{ project_name }} code
