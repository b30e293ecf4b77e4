"""PHP-FPM's log and PHP's own error log: `[01-May-2024 10:00:00] WARNING: [pool www] ...`, `[01-May-2024 10:00:00 UTC] PHP Warning:  ...`.

From php-src: the FPM master writes `[%d-%b-%Y %H:%M:%S] LEVEL: message`
(with `.%f` when `log_level` adds it) and levels DEBUG, NOTICE, WARNING,
ERROR, ALERT; `error_log` writes `[%d-%b-%Y %H:%M:%S ZONE] PHP Level:  message`
with the zone's name (`UTC`, `Europe/Berlin`; read as UTC: the name is not an
offset) and levels Fatal error, Parse error, Warning, Notice, Deprecated.
An uncaught exception's `Stack trace:`, its `#0 ...` frames and `  thrown in`
(and Xdebug's dated `PHP Stack trace:` / `PHP   1. ...` lines) stay with
their event.
"""

from __future__ import annotations

from lepton_flow.logs.formats import MONTHS, register_log_format
from lepton_flow.logs.layout import layout_format

DATE = rf"<Date:\d\d-(?:{'|'.join(MONTHS)})-\d{{4}}> <Time:\d\d:\d\d:\d\d(?:\.\d+)?>"

FORMAT = register_log_format(
    layout_format(
        "php",
        [
            rf"\[{DATE}\] <Level:DEBUG|NOTICE|WARNING|ERROR|ALERT>: <Content>",
            rf"\[{DATE}(?: <Zone:[\w/+\-]+>)?\] PHP <Level:Fatal error|Parse error|Recoverable fatal error|Warning|Notice|Deprecated|Strict Standards|Catchable fatal error>: <Content>",
        ],
        examples=[
            "[01-May-2024 10:05:00] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it",
            "[01-May-2024 10:00:00] NOTICE: fpm is running, pid 1",
            "[01-May-2024 10:00:00 UTC] PHP Warning:  Undefined variable $total in /var/www/html/cart.php on line 12",
            "[01-May-2024 10:00:01 Europe/Berlin] PHP Fatal error:  Uncaught Error: Call to undefined function foo() in /var/www/html/index.php:3",
        ],
        description=__doc__.splitlines()[0],
        continues=r"(?:Stack trace:|#\d+ |\[[^\]]*\] PHP (?:Stack trace:| +\d+\. ))",
    )
)
