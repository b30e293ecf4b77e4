"""LANL HPC cluster event logs (loghub's HPC): `id node component state epoch-seconds flag message`."""

from __future__ import annotations

from lepton_flow.logs.formats import register_log_format
from lepton_flow.logs.layout import layout_format

FORMAT = register_log_format(
    layout_format(
        "hpc",
        r"<LogId:\d+> <Node:\S+> <Component:\S+> <State:\S+> <Timestamp:\d{9,10}> <Flag:\d+> <Content>",
        timestamp="epoch",
        examples=[
            r"134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change: Component \042alt0\042 is in the unavailable state (HWID=1186)",
            "417 node-D1 action start 1073519268 1 clusterAddMember  (command 1902)",
            "2561 node-149 boot_cmd new 1076432564 1 Targeting domains:node-D3 and nodes:node-[136-167] child of command 2559",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
