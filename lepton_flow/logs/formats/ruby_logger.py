"""Ruby's `Logger` (Rails' production.log, Sidekiq, Puma, Chef): `I, [2024-05-01T10:00:00.123456 #1234]  INFO -- progname: message`.

The layout of `Logger::Formatter` in Ruby's standard library: the level's
letter, the time (microseconds), the process id, the level in full (ANY for
unknown), then the program name (often empty: `-- : message`) as the
source.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "ruby-logger",
        r"<Letter:[DIWEFA]>, \[<Timestamp:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?> #<Pid:\d+>\] <Level:DEBUG|INFO|WARN|ERROR|FATAL|ANY> -- <Program:[^:]*?>: <Content>",
        examples=[
            'I, [2024-05-01T10:00:00.123456 #1234]  INFO -- : Started GET "/orders" for 127.0.0.1 at 2024-05-01 10:00:00 +0000',
            "E, [2024-05-01T10:00:00.423456 #1234] ERROR -- : ActiveRecord::RecordNotFound (Couldn't find Order with 'id'=42)",
            "W, [2024-05-01T10:00:01.000001 #77]  WARN -- sidekiq: Timeout, retrying in 5 seconds",
        ],
        description=__doc__.splitlines()[0],
    )
)
