Your sign-in code

Enter this code to sign in to {{ project_name }} as {{ email }}:

    {{ verification_code }}

It is valid for {{ valid_minutes }} minutes and works once. If you did not ask for it, ignore this mail: nobody can sign in without the code.

{{ signature }}
