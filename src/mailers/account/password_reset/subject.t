Reset your {{ project_name }} password
