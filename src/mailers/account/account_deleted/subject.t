Your {{ project_name }} account was deleted
