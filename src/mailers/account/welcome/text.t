Welcome to {{ project_name }}

Your account for {{ email }} is ready. Sign in whenever you like: we are glad to have you.

Open {{ project_name }}: {{ web_app_url }}

{{ signature }}
