Your account was deleted

The {{ project_name }} account {{ email }} and everything it held (items, files, sessions and history) are deleted. This is the last mail we send to this address: we no longer keep it.

You are welcome back any time, with a new account.

{{ signature }}
