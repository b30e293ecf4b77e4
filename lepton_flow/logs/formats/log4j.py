"""Java logs as log4j and logback lay them out (Hadoop, HBase, Spark, ZooKeeper, Kafka, Spring Boot): time, level, thread, logger, message.

Layouts, from the projects' shipped log4j/logback configurations:
- Hadoop/HBase `%d{ISO8601} %p [%t] %c: %m` and `%d{ISO8601} %-5p %c{2}: %m`;
- Spark `%d{yy/MM/dd HH:mm:ss} %p %c{1}: %m`;
- ZooKeeper `%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m` (older
  releases without `[myid:]`);
- Kafka `[%d] %p %m (%c)`;
- logback's `%d [%thread] %-5level %logger{36} - %msg` (and `%d %-5p [%t] %c - %m`,
  level first) and Spring Boot's
  `%d{ISO8601 with offset} %5p PID --- [app] [thread] logger : message`
  (Spring Boot 2 without the offset and `[app]`);
- Quarkus's (Keycloak) `%d %-5p [%c] (%t) %s%e` and Airlift's (Trino),
  tab-separated `time level thread logger message`;
- Cassandra's `%-5level [%thread] %date{ISO8601} %F:%L - %msg` (the source
  file is the logger);
- Tomcat's `OneLineFormatter` (java.util.logging, `catalina.out` and
  `catalina.DATE.log`): `dd-MMM-yyyy HH:mm:ss.SSS LEVEL [thread] class.method message`.
Level, thread and logger land in their own fields (the thread is matched
and left out); times are read as UTC.
"""

from __future__ import annotations

from lepton_flow.logs.formats import MONTHS, register_log_format
from lepton_flow.logs.layout import layout_format

LEVEL = "<Level:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|SEVERE|FINE|FINER|FINEST|CONFIG>"
MONTH = "|".join(MONTHS)
DATE = r"<Date:\d{4}-\d\d-\d\d|\d\d/\d\d/\d\d>"
TIME = r"<Time:\d\d:\d\d:\d\d(?:[,.]\d{3})?>"
LOGGER = r"<Logger:[\w$.\-]+>"

FORMAT = register_log_format(
    layout_format(
        "log4j",
        [
            rf"{DATE} {TIME} (?:\[myid:<Myid:\d*>\] )?- {LEVEL} \[<Thread:.*?>:<Logger:[\w$.\-]+>@<Line:\d+>\] - <Content>",
            rf"{DATE} {TIME} {LEVEL} \[<Thread:.*?>\] {LOGGER}: <Content>",
            rf"{DATE} {TIME} \[<Thread:.*?>\] {LEVEL} {LOGGER} - <Content>",
            rf"{DATE} {TIME} {LEVEL} \[<Thread:.*?>\] {LOGGER} - <Content>",
            rf"{DATE} {TIME} {LEVEL} {LOGGER}: <Content>",
            rf"\[{DATE} {TIME}\] {LEVEL} <Content> \({LOGGER}\)",
            rf"<Timestamp:\d{{4}}-\d\d-\d\d[T ]\d\d:\d\d:\d\d\.\d+(?:Z|[+-]\d\d:\d\d)?> {LEVEL} <Pid:\d+> --- (?:\[<Appname:[^\]]*>\] )?\[<Thread:[^\]]*>\] <Logger:\S+> : <Content>",
            rf"{LEVEL} \[<Thread:[^\]]*>\] <Date:\d{{4}}-\d\d-\d\d> {TIME} <Logger:[\w$.\-]+\.(?:java|scala|kt)>:<Line:\d+> - <Content>",
            rf"<Date:\d\d-(?:{MONTH})-\d{{4}}> {TIME} {LEVEL} \[<Thread:[^\]]*>\] {LOGGER} <Content>",
            rf"{DATE} {TIME} {LEVEL} \[{LOGGER}\] \(<Thread:[^)]*>\) <Content>",
            rf"<Timestamp:\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}(?:Z|[+-]\d\d:?\d\d)>\t{LEVEL}\t<Thread:[^\t]*>\t{LOGGER}\t<Content>",
        ],
        examples=[
            "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001",
            "2015-10-18 18:04:39,472 WARN [LeaseRenewer:msrabi@msra-sa-41:9000] org.apache.hadoop.hdfs.LeaseRenewer: Failed to renew lease for [DFSClient_NONMAPREDUCE_1537864556_1] for 30 seconds.  Will retry shortly ...",
            "17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered signal handlers for [TERM, HUP, INT]",
            "2024-05-01 10:00:01,077 INFO  [main] org.eclipse.jetty.server.Server - Started @2101ms",
            "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200",
            "2019-03-14 10:00:00,123 [myid:1] - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@688] - Send worker leaving thread",
            "[2019-03-14 10:00:00,123] INFO [KafkaServer id=0] started (kafka.server.KafkaServer)",
            "2024-05-01 10:00:00.123 [http-nio-8080-exec-1] ERROR com.example.web.OrderController - order 42 not found",
            "2014-03-05 10:57:51,112 INFO org.apache.hadoop.hbase.regionserver.HRegionServer: STOPPED: Shutdown requested",
            "2023-06-01T10:00:00.123+02:00  INFO 12345 --- [myapp] [           main] o.s.b.web.embedded.tomcat.TomcatWebServer : Tomcat started on port 8080",
            "WARN  [main] 2024-05-01 10:00:00,456 StartupChecks.java:143 - jemalloc shared library could not be preloaded to speed up memory allocations",
            "01-May-2024 10:00:05.789 SEVERE [http-nio-8080-exec-1] org.apache.catalina.core.StandardWrapperValve.invoke Servlet.service() for servlet [dispatcher] threw exception",
            "2024-05-01 10:00:01.223  WARN 12345 --- [nio-8080-exec-1] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] threw exception",
            "2024-05-01 10:00:00,123 INFO  [org.keycloak.services] (main) KC-SERVICES0050: Initializing master realm",
            "2024-05-01T10:00:00.123Z\tINFO\tmain\tio.trino.server.Server\t======== SERVER STARTED ========",
        ],
        description=__doc__.splitlines()[0],
        drain_similarity=0.5,
    )
)
