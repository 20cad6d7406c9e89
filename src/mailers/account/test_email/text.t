It works

This is a test email from {{ project_name }}, sent to {{ email }}. If you can read it, mail delivery is set up.

{{ signature }}
