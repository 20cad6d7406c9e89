Reset your password

Someone asked to reset the password of the {{ project_name }} account {{ email }}. If it was you, choose a new password here:

{{ link }}

The link is valid for {{ valid_hours }} hours and works once. If it was not you, ignore this mail: your password stays as it is.

{{ signature }}
