{{ subject }}

{% include "security_notice/message.txt" %}

If this was not you, reset your password and contact us.

{{ signature }}
