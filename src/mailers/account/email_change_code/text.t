Confirm your new email

Enter this code in {{ project_name }} to make {{ email }} the email of your account:

    {{ verification_code }}

It is valid for {{ valid_minutes }} minutes and works once. If you did not ask for this change, ignore this mail: nothing changes without the code.

{{ signature }}
