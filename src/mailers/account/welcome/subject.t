Welcome to {{ project_name }}
