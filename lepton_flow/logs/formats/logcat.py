"""Android logcat: `threadtime` (`MM-dd HH:mm:ss.SSS  pid  tid L tag: message`, the default since Android 7), `time`, and `brief` (`L/tag( pid): message`, no time).

As `logcat -v` writes them (system/logging/liblog/logprint.cpp): the tag is
padded with spaces before its colon, the message may be empty, the level
is one letter (V D I W E F A), `-v year` puts the year before the date. `brief` lines carry no time:
their events are dated when the file was last written.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

LEVEL = "<Level:[VDIWEFAS]>"

FORMAT = register_log_format(
    layout_format(
        "logcat",
        [
            rf"<Date:(?:\d{{4}}-)?\d\d-\d\d> <Time:\d\d:\d\d:\d\d\.\d{{3}}> <Pid:\d+> <Tid:\d+> {LEVEL} <Tag:.*?>\s*:(?: <Content>)?",
            rf"<Date:(?:\d{{4}}-)?\d\d-\d\d> <Time:\d\d:\d\d:\d\d\.\d{{3}}> {LEVEL}/<Tag:[^(]*?>\(\s*<Pid:\d+>\): <Content>",
            rf"{LEVEL}/<Tag:[^(]*?>\(\s*<Pid:\d+>\): <Content>",
        ],
        examples=[
            "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogsopening app wtoken = AppWindowToken{9f4ef63 token=Token{a64f992}}, allDrawn= false",
            "03-17 16:13:38.839  1702  2113 V PowerManagerService: Waking up from sleep due to notification",
            "01-02 03:04:05.678   123   456 I chatty  : uid=1000(system) Binder:1234_5 expire 3 lines",
            "03-17 16:15:12.004  2227  2227 D StatusBar:",
            "2024-01-02 03:04:05.678   123   456 W ActivityManager: Slow operation: 52ms so far",
            "03-17 16:13:38.845 I/PhoneStatusBar( 2227): suppressing 0 notifications",
            "D/dalvikvm( 1234): GC_CONCURRENT freed 1024K, 12% free 9216K/10432K, paused 2ms+3ms",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.4,
    )
)
