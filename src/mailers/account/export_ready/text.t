Your data export is ready

The export you asked for of the {{ project_name }} account {{ email }} is ready: one zip archive with your profile, items, files, sessions and security history. You can download it for {{ valid_hours }} hours, signed in to your account:

{{ link }}

If you did not ask for it, change your password: someone signed in to your account.

{{ signature }}
