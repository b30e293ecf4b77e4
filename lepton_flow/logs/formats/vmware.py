"""VMware ESXi and vCenter logs: ESXi 7's and 8's syslog (`In(14)`), hostd's and vpxd's `[Originator@6876 sub=...]` lines, the VMkernel's `cpuN:world)`.

- ESXi 7 and later, through its syslog: `2022-06-02T02:56:51.118Z In(14)
  vmsyslogd[1001390391]: message`: the severity's two letters (`Em`, `Al`,
  `Cr`, `Er`, `Wa`, `No`, `In`, `Db`) and the priority in parentheses, `[+]`
  after them on a long message's later lines.
- hostd, vpxd and their kin: `2020-05-11T22:32:38.751Z info
  vsansystem[1000212707] [Originator@6876 sub=Libs opId=...] message`
  (levels `verbose`, `info`, `warning`, `error`; the context in brackets is
  left out), and the older `[thread level 'Component' opID=...]` form.
- the VMkernel (`vmkernel.log`): `2014-11-14T19:19:51.559Z cpu7:35233)VC:
  2002: message`; no level, the module first in the message.
The program lands in `source`.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

_TIME = r"<Timestamp:\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:?\d\d)?>"
_WORDS = r"<Level:verbose|trivia|info|warning|error|panic>"

FORMAT = register_log_format(
    layout_format(
        "vmware",
        [
            rf"{_TIME} <Level:Em|Al|Cr|Er|Wa|No|In|Db>\(<Priority:\d{{1,3}}>\)(?:\[\+\])? <Program:[^\s\[:]+>(?:\[<Pid:\d+>\])?: <Content>",
            rf"{_TIME} {_WORDS} (?:-|<Program:[\w.][\w.\-]*>)\[<Pid:[0-9A-Fa-f]+>\] \[(?:Originator@\d+ )?<Context:(?:[^\[\]]|\[[^\[\]]*\])*>\] <Content>",
            rf"\[?{_TIME} \[?<Thread:[0-9A-F]{{8,16}}> {_WORDS} '<Component:[^']+>'(?: opID=<Op:[^\]]*>)?\] <Content>",
            rf"{_TIME} cpu<Cpu:\d+>:<World:\d+>(?: opID=<Op:[^\s)]+>)?\)<Content>",
        ],
        examples=[
            "2022-06-02T02:56:51.640Z In(14) vmsyslogd[1001390391]: Logs rotated. 2022-06-02T02:54:42.721Z - time the service was last started",
            "2022-06-02T02:15:22.987Z Wa(164) Hostd[1001392061]: warning -[1001392061] [Originator@6876 sub=Default] Supported VMs 640",
            "2022-06-02T05:34:23Z In(14)[+] hostprofile[1001430319]: {'mode': 'Disabled', 'exceptionUsers': []}",
            "2020-05-11T22:32:38.751Z info vsansystem[1000212707] [Originator@6876 sub=Libs opId=vsan-d810] VsanConfigStore: Get object host from vsan",
            "2020-05-11T22:32:22.736Z error -[1000212040] [Originator@6876 sub=Default] Failed to register SIGHUP handler",
            "2014-11-04T15:53:31.075+05:30 verbose vpxd[05160] [Originator@6876 sub=PropertyProvider opID=ProcessAlarmFiring-427c3c55] RecordOp ASSIGN: declaredAlarmState",
            "2014-01-17T04:55:50.347Z [7F03ECE76700 verbose 'Default' opID=2140bc71] [VpxVmomi] Invoke done: vmodl.query.PropertyCollector.waitForUpdatesEx",
            "[2011-04-01 15:14:34.203 F5A5AB90 info 'vm:/vmfs/volumes/4d6579ec/Vmotion-test/Vmotion-test.vmx' opID=F6FC49D5-000007E6-d] VMotionPrepare: dstMgmtIp=10.21.49.138",
            "2014-11-14T19:19:51.559Z cpu7:35233)VC: 2002: Device rescan time 704 msec (total number of devices 91)",
            "2022-06-02T02:16:57.414Z cpu31:1001392590 opID=827cfaf)UWVMKSyscall: ForkExec:2408: hostd-worker: Found params <group=hostd-tmp,mem=10>",
        ],
        description=__doc__.splitlines()[0],
        levels={"em": "emerg", "al": "alert", "cr": "crit", "er": "error", "wa": "warning", "no": "notice", "in": "info", "db": "debug",
                "trivia": "debug", "panic": "crit"},
    )
)
