Your {{ project_name }} account will be deleted
