{{ verification_code }} confirms your new {{ project_name }} email
