"""Go's klog/glog (Kubernetes components): `Lmmdd hh:mm:ss.uuuuuu threadid file:line] message`, the level one letter (I W E F).

The header as klog writes it (k8s.io/klog `formatHeader`): no year (the
reader gives the file's), the thread id padded to seven columns, the
source file and line before `]`. The source file lands in `source`.
"""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "klog",
        r"<Level:[IWEF]><Date:\d{4}> <Time:\d\d:\d\d:\d\d\.\d{6}> <Thread:\d+> <Source:[^\s:\]]+>:<Line:\d+>\] <Content>",
        timestamp="%m%d %H:%M:%S.%f",
        examples=[
            "I0310 14:23:45.123456    1234 main.go:42] Starting kube-scheduler v1.29.0",
            'E0310 14:23:46.000001       1 reflector.go:147] k8s.io/client-go/informers/factory.go:159: Failed to watch *v1.Pod: unknown (get pods)',
            'W1231 23:59:59.999999   56789 kubelet.go:2404] "Error syncing pod, skipping" pod="kube-system/coredns-5d78c9869d-abcde"',
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
