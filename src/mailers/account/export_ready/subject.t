Your {{ project_name }} data export is ready
