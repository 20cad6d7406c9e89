Test email from {{ project_name }}
