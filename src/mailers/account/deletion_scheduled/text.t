Your account will be deleted

You asked to delete the {{ project_name }} account {{ email }}. It is signed out everywhere, and on {{ deletes_at }} it will be deleted for good, with everything it holds: items, files and history.

Changed your mind? Until then, this link keeps the account (it works once):

{{ link }}

If you did not ask for this, use the link, then change your password: someone signed in to your account.

{{ signature }}
