"""Log formats as the real software writes them: fields where they belong, multi-line entries, detection of the most specific format, and layouts defined without code."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
import pytest

from lepton_flow.logs.formats import detect, folder_formats, log_formats
from lepton_flow.logs.layout import LayoutError, layout_format, strftime_pattern
from lepton_flow.logs.reader import NotALogFile, read_log

# Lines as each program writes them (layouts from the software's own configuration or source; see each format's
# docstring), with what the first line's event must hold: (level, source, host, message).
REAL = {
    "log4j": (
        [
            "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001",
            "2015-10-18 18:04:39,472 WARN [LeaseRenewer:msrabi@msra-sa-41:9000] org.apache.hadoop.hdfs.LeaseRenewer: Failed to renew lease for 30 seconds.  Will retry shortly ...",
            "java.net.ConnectException: Connection refused",
            "\tat sun.nio.ch.SocketChannelImpl.checkConnect(Native Method)",
            "\tat org.apache.hadoop.ipc.Client$Connection.setupConnection(Client.java:530)",
            "2015-10-18 18:04:40,001 ERROR [main] org.apache.hadoop.mapred.Task: Task failed",
        ],
        ("info", "org.apache.hadoop.mapreduce.v2.app.MRAppMaster", None, "Created MRAppMaster for application appattempt_1445144423722_0020_000001"),
    ),
    "log4j-spark": (
        [
            "17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered signal handlers for [TERM, HUP, INT]",
            "17/06/09 20:11:11 INFO storage.MemoryStore: Block broadcast_0_piece0 stored as bytes in memory (estimated size 22.7 KB, free 22.7 KB)",
        ],
        ("info", "executor.CoarseGrainedExecutorBackend", None, "Registered signal handlers for [TERM, HUP, INT]"),
    ),
    "log4j-zookeeper": (
        [
            "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200",
            "2015-07-29 19:04:12,394 - INFO  [/10.10.34.11:3888:QuorumCnxManager$Listener@493] - Received connection request /10.10.34.11:45307",
            "2019-03-14 10:00:00,123 [myid:1] - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@688] - Send worker leaving thread",
        ],
        ("info", "FastLeaderElection", None, "Notification time out: 3200"),
    ),
    "log4j-kafka": (
        ["[2019-03-14 10:00:00,123] INFO [KafkaServer id=0] started (kafka.server.KafkaServer)"],
        ("info", "kafka.server.KafkaServer", None, "[KafkaServer id=0] started"),
    ),
    "logcat": (
        [
            "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogsopening app wtoken = AppWindowToken{9f4ef63}",
            "01-02 03:04:05.678   123   456 I chatty  : uid=1000(system) Binder:1234_5 expire 3 lines",
        ],
        ("debug", "WindowManager", None, "printFreezingDisplayLogsopening app wtoken = AppWindowToken{9f4ef63}"),
    ),
    "oslo-log": (
        [
            "nova-compute.log.1.2017-05-16_13:55:31 2017-05-16 00:00:04.500 2931 INFO nova.compute.manager [req-3ea4052c-895d-4b64-9e2d-04d64c4d94ab - - - - -] [instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] VM Started (Lifecycle Event)",
            "2024-02-01 12:00:00.123 4242 WARNING oslo_messaging.server [-] Possible hang: stop is waiting for start to complete",
        ],
        ("info", "nova.compute.manager", None, "[instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] VM Started (Lifecycle Event)"),
    ),
    "windows-cbs": (
        [
            "2016-09-28 04:30:31, Error                 CBS    Failed to internally open package. [HRESULT = 0x800f0805 - CBS_E_INVALID_PACKAGE]",
            "2016-09-28 04:30:31, Info                  CSI    00000001@2016/9/27:20:30:31.455 WcpInitialize (wcp.dll version 0.0.0.6) called",
        ],
        ("error", "CBS", None, "Failed to internally open package. [HRESULT = 0x800f0805 - CBS_E_INVALID_PACKAGE]"),
    ),
    "python-logging": (
        [
            "2024-05-01 10:00:00,123 - myapp.db - WARNING - retrying connection (attempt 2)",
            "Traceback (most recent call last):",
            '  File "app.py", line 3, in <module>',
            "ConnectionError: refused",
            "2024-05-01 10:00:01,000 - myapp.db - INFO - connected",
        ],
        ("warning", "myapp.db", None, "retrying connection (attempt 2)"),
    ),
    "klog": (
        ['E0310 14:23:46.000001       1 reflector.go:147] Failed to watch *v1.Pod: unknown (get pods)'],
        ("error", "reflector.go", None, "Failed to watch *v1.Pod: unknown (get pods)"),
    ),
    "cri": (
        ["2016-10-06T00:17:09.669794202Z stderr F The content of the log entry 1"],
        (None, "stderr", None, "The content of the log entry 1"),
    ),
    "docker-json": (
        ['{"log":"Log line is here\\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}'],
        (None, "stdout", None, "Log line is here"),
    ),
    "journald-json": (
        ['{"__REALTIME_TIMESTAMP":"1342540861416409","_HOSTNAME":"epsilon","PRIORITY":"6","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"Accepted publickey for lennart"}'],
        ("info", "sshd", "epsilon", "Accepted publickey for lennart"),
    ),
    "thunderbird": (
        ["- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root"],
        (None, "crond(pam_unix)", "dn228", "session closed for user root"),
    ),
    "hpc": (
        ["417 node-D1 action start 1073519268 1 clusterAddMember  (command 1902)"],
        (None, "action", "node-D1", "clusterAddMember  (command 1902)"),
    ),
    "macos-syslog": (
        [
            "Jul  1 09:03:11 calvisitor-10-105-160-95 Microsoft Word[14463]: Sandbox extension consumed",
            "Jul  1 09:02:26 calvisitor-10-105-160-95 sandboxd[129] ([31211]): mdworker(31211) deny file-read-data /private/var/db/mds/system/mds.lock",
            "Jul  1 09:09:34 calvisitor-10-105-160-95 com.apple.xpc.launchd[1] (com.apple.xpc.launchd.domain.pid.WebContent.32778): Service exited with abnormal code: 1",
        ],
        (None, "Microsoft Word", "calvisitor-10-105-160-95", "Sandbox extension consumed"),
    ),
    "proxifier": (
        ["[10.30 16:49:08] QQ.exe *64 - qq.com:443 error : Could not connect through proxy proxy.cse.cuhk.edu.hk:5070"],
        (None, "QQ.exe *64", None, "qq.com:443 error : Could not connect through proxy proxy.cse.cuhk.edu.hk:5070"),
    ),
    "healthapp": (
        ["20171224-2:4:43:476|Step_SPUtils|30002312| getTodayTotalDetailSteps = 1514038440000##7007##548365"],
        (None, "Step_SPUtils", None, " getTodayTotalDetailSteps = 1514038440000##7007##548365"),
    ),
    # Platform services found refused as "not a log file" (2026-12-03): each as the software writes it.
    "logfmt": (
        [
            'ts=2025-06-24T14:36:25.123Z caller=main.go:512 level=info component=web msg="Server is ready to receive web requests."',
            'logger=server t=2025-06-24T14:36:26.12+00:00 level=warn msg="HTTP Server Listen" address=[::]:3000 protocol=http',
            'time="2025-06-24T14:36:27Z" level=error msg="Provider connection error" providerName=docker',
        ],
        ("info", "web", None, "Server is ready to receive web requests."),
    ),
    "redis": (
        ["1:M 24 Jun 2025 14:36:25.123 * Ready to accept connections tcp", "1:C 24 Jun 2025 14:36:25.001 # Redis is starting"],
        ("notice", "redis-primary", None, "Ready to accept connections tcp"),
    ),
    "elasticsearch": (
        [
            "[2025-06-24T14:36:25,123][WARN ][o.e.c.r.a.DiskThresholdMonitor] [node-1] high disk watermark [90%] exceeded on [abc][node-1]",
            "[2025-06-24T14:36:26,001][INFO ][o.e.n.Node               ] [node-1] started",
        ],
        ("warning", "o.e.c.r.a.DiskThresholdMonitor", "node-1", "high disk watermark [90%] exceeded on [abc][node-1]"),
    ),
    "program-time": (
        ["update-alternatives 2025-06-24 14:36:53: link group pager updated to point to /usr/bin/less"],
        (None, "update-alternatives", None, "link group pager updated to point to /usr/bin/less"),
    ),
    "jsonl-mongodb": (
        [
            '{"t":{"$date":"2025-06-24T14:36:25.123+00:00"},"s":"I",  "c":"NETWORK",  "id":23016,   "ctx":"listener","msg":"Waiting for connections","attr":{"port":27017}}',
            '{"t":{"$date":"2025-06-24T14:36:26.000+00:00"},"s":"W",  "c":"CONTROL",  "id":22120,   "ctx":"initandlisten","msg":"Access control is not enabled"}',
        ],
        ("info", "NETWORK", None, "Waiting for connections"),
    ),
    # JSON loggers as they write (2026-12-04): CLEF, Google Cloud Logging and structlog were refused; bunyan's and
    # pino's numbered levels, ECS's and logstash's names left the level or the logger out.
    "jsonl-bunyan": (
        ['{"name":"api","hostname":"web-1","pid":123,"level":50,"msg":"upstream timed out","time":"2026-12-04T06:30:02.123Z","v":0}'],
        ("error", "api", "web-1", "upstream timed out"),
    ),
    "jsonl-pino": (['{"level":40,"time":1764829802123,"pid":1,"hostname":"h-2","msg":"slow query"}'], ("warning", None, "h-2", "slow query")),
    "jsonl-clef": (
        [
            '{"@t":"2026-12-04T06:30:02.1234567Z","@mt":"Processed {@Position} in {Elapsed:000} ms.","Position":{"Latitude":25},"Elapsed":34}',
            '{"@t":"2026-12-04T06:30:03Z","@l":"Error","@m":"Failed to connect","@x":"System.Exception: refused"}',
        ],
        ("info", None, None, "Processed {@Position} in {Elapsed:000} ms."),
    ),
    "jsonl-gcp": (
        [
            '{"severity":"WARNING","timestamp":"2026-12-04T06:30:02.123456Z","textPayload":"disk almost full","resource":{"type":"gce_instance"}}',
            '{"severity":"INFO","timestamp":"2026-12-04T06:30:03Z","jsonPayload":{"message":"ok"}}',
        ],
        ("warning", None, None, "disk almost full"),
    ),
    "jsonl-structlog": (['{"event":"user created","level":"info","logger":"accounts","timestamp":"2026-12-04T06:30:02.5Z","user_id":5}'], ("info", "accounts", None, "user created")),
    "jsonl-ecs": (
        ['{"@timestamp":"2026-12-04T06:30:02.000Z","log.level":"error","message":"payment failed","ecs.version":"1.6.0","log.logger":"billing","event":{"dataset":"app"}}'],
        ("error", "billing", None, "payment failed"),
    ),
    "jsonl-logstash": (
        ['{"@timestamp":"2026-12-04T06:30:02.123Z","@version":"1","message":"user logged in","logger_name":"com.x.Auth","thread_name":"main","level":"INFO","level_value":20000}'],
        ("info", "com.x.Auth", None, "user logged in"),
    ),
    "syslog-iso": (
        [
            "2024-05-01T12:34:57.000123+00:00 ubuntu sshd[2345]: Accepted publickey for ubuntu from 10.0.0.9 port 51514 ssh2: ED25519 SHA256:Xf0",
            "2024-05-01T12:35:00.500000+00:00 ubuntu kernel: [  123.456789] EXT4-fs (sda1): re-mounted. Quota mode: none.",
            "2024-05-01T12:35:02+02:00 mail-1 postfix/smtpd[777]: connect from unknown[10.0.0.1]",
        ],
        (None, "sshd", "ubuntu", "Accepted publickey for ubuntu from 10.0.0.9 port 51514 ssh2: ED25519 SHA256:Xf0"),
    ),
    "postgresql": (
        [
            '2024-05-01 12:35:02.456 UTC [1240] app@shop ERROR:  relation "orders_old" does not exist at character 15',
            "2024-05-01 12:35:02.456 UTC [1240] app@shop STATEMENT:  SELECT *",
            "\tFROM orders_old;",
            "2024-05-01 14:35:03 CEST [1241]: [3-1] user=app,db=shop,app=psql,client=10.0.0.7 FATAL:  password authentication failed for user \"app\"",
            "2024-05-01 14:35:03 CEST [1241]: [4-1] user=app,db=shop,app=psql,client=10.0.0.7 DETAIL:  Connection matched pg_hba.conf line 99",
            "2024-05-01 12:34:56.789 UTC [1234] LOG:  database system is ready to accept connections",
        ],
        ("error", "postgres", None, 'relation "orders_old" does not exist at character 15'),
    ),
    "w3c": (
        [
            "#Software: Microsoft Internet Information Services 10.0",
            "#Version: 1.0",
            "#Date: 2024-05-01 12:34:56",
            "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken",
            "2024-05-01 12:34:56 10.0.0.5 GET /index.html - 443 - 203.0.113.7 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) - 200 0 0 15",
            "2024-05-01 12:34:57 10.0.0.5 POST /api/login - 443 - 203.0.113.8 curl/8.0 - 401 1 2148074254 3",
            "#Software: Microsoft Internet Information Services 10.0",
            "2024-05-01 13:00:00 10.0.0.5 GET /health - 443 - 10.0.0.1 kube-probe/1.29 - 200 0 0 1",
        ],
        ("info", None, "203.0.113.7", "GET /index.html 200"),
    ),
    "aws-elb": (
        [
            'http 2024-05-01T12:34:57.000000Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.40:2818 - -1 -1 -1 503 - 34 366 "GET http://www.example.com:80/api HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2024-05-01T12:34:57.000000Z "forward" "-" "-" "-" "-" "-" "-"',
            '2024-05-01T12:34:58.123456Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -',
        ],
        ("error", "app/my-loadbalancer/50dc6c495c0c9188", "192.168.131.40", "GET http://www.example.com:80/api HTTP/1.1 503 -"),
    ),
    "jsonl-nginx": (
        ['{"time_local":"04/Dec/2026:06:30:01 +0000","remote_addr":"10.0.0.9","request":"GET /api/items?page=2 HTTP/1.1","status":"502","body_bytes_sent":"157"}'],
        ("error", None, None, "GET /api/items?page=2 HTTP/1.1 502"),
    ),
    "jsonl-gelf": (['{"version":"1.1","host":"db-2","short_message":"replica lag high","timestamp":1764829802.25,"level":3}'], ("error", None, "db-2", "replica lag high")),
    "jsonl-suricata": (
        [
            '{"timestamp":"2024-05-01T10:00:00.123456+0000","flow_id":1234,"in_iface":"eth0","event_type":"alert","src_ip":"10.0.0.5","src_port":51234,"dest_ip":"10.0.0.1","dest_port":22,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2001219,"rev":20,"signature":"ET SCAN Potential SSH Scan","category":"Attempted Information Leak","severity":2}}',
            '{"timestamp":"2024-05-01T10:00:01.123456+0000","flow_id":1235,"event_type":"dns","src_ip":"10.0.0.5","dest_ip":"10.0.0.53","proto":"UDP","dns":{"type":"query","id":1,"rrname":"example.com","rrtype":"A"}}',
            '{"timestamp":"2024-05-01T10:00:02.000000+0000","flow_id":1236,"event_type":"http","src_ip":"10.0.0.6","app_proto":"http","http":{"hostname":"example.com","url":"/","status":200}}',
        ],
        ("warning", None, None, "alert: ET SCAN Potential SSH Scan"),
    ),
    "jsonl-k8s-audit": (
        [
            '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1b2c3d4-0000-4000-8000-000000000002","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/prod/secrets/db-password","verb":"get","user":{"username":"alice"},"sourceIPs":["203.0.113.9"],"objectRef":{"resource":"secrets","namespace":"prod","name":"db-password","apiVersion":"v1"},"responseStatus":{"metadata":{},"status":"Failure","reason":"Forbidden","code":403},"requestReceivedTimestamp":"2024-05-01T10:00:01.000000Z","stageTimestamp":"2024-05-01T10:00:01.002000Z"}',
            '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a1b2c3d4-0000-4000-8000-000000000003","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods/web-1/exec?command=sh","verb":"create","user":{"username":"bob"},"objectRef":{"resource":"pods","subresource":"exec","namespace":"default","name":"web-1"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2024-05-01T10:00:02.000000Z"}',
        ],
        ("warning", None, None, "get secrets 403"),
    ),
    "jsonl-falco": (
        ['{"hostname":"node-1","output":"10:00:05.000000000: Warning Sensitive file opened for reading by non-trusted program (file=/etc/shadow)","priority":"Warning","rule":"Read sensitive file untrusted","source":"syscall","time":"2024-05-01T10:00:05.000000000Z"}'],
        ("warning", "syscall", "node-1", "10:00:05.000000000: Warning Sensitive file opened for reading by non-trusted program (file=/etc/shadow)"),
    ),
    "log4j-cassandra": (
        [
            "INFO  [main] 2024-05-01 10:00:00,123 CassandraDaemon.java:600 - JVM vendor/version: OpenJDK 64-Bit Server VM/11.0.22",
            "ERROR [CompactionExecutor:1] 2024-05-01 10:00:01,789 CassandraDaemon.java:244 - Exception in thread Thread[CompactionExecutor:1,1,main]",
            "java.lang.RuntimeException: corrupted sstable",
            "\tat org.apache.cassandra.db.compaction.CompactionTask.runMayThrow(CompactionTask.java:221)",
        ],
        ("info", "CassandraDaemon.java", None, "JVM vendor/version: OpenJDK 64-Bit Server VM/11.0.22"),
    ),
    "airflow": (
        [
            "[2026-01-05T10:00:00.123+0000] {taskinstance.py:1159} INFO - Dependencies all met for dep_context=non-requeueable deps ti=<TaskInstance: etl.load manual__2026-01-05T09:59:58+00:00 [queued]>",
            "[2026-01-05T10:00:01.456+0000] {subprocess.py:93} INFO - Traceback (most recent call last):",
            "[2026-01-05T10:00:02.789+0000] {taskinstance.py:1937} ERROR - Task failed with exception",
            "Traceback (most recent call last):",
            '  File "/opt/airflow/dags/etl.py", line 12, in load',
            "    raise ValueError('no rows')",
            "ValueError: no rows",
            "[2026-01-05, 10:00:03 UTC] {taskinstance.py:1400} INFO - Marking task as FAILED. dag_id=etl, task_id=load",
            "[2021-03-01 10:00:04,345] {scheduler_job.py:1230} WARNING - Tasks using non-existent pool 'gpu' will not be scheduled",
        ],
        ("info", "taskinstance.py", None, "Dependencies all met for dep_context=non-requeueable deps ti=<TaskInstance: etl.load manual__2026-01-05T09:59:58+00:00 [queued]>"),
    ),
    "tornado": (
        ["[W 260105 10:00:01 web:2239] 404 GET /favicon.ico (10.0.0.7) 0.80ms", "[C 260105 10:00:02 ioloop:761] Exception in callback None"],
        ("warning", "web", None, "404 GET /favicon.ico (10.0.0.7) 0.80ms"),
    ),
    "tornado-jupyter": (
        [
            "[I 2026-01-05 10:00:02.123 ServerApp] Jupyter Server 2.10.0 is running at:",
            "[I 2026-01-05 10:00:02.124 ServerApp] http://localhost:8888/lab?token=...",
            "[E 2026-01-05 10:00:03.456 JupyterHub app:3382] Failed to connect to db: sqlite:///jupyterhub.sqlite",
        ],
        ("info", "ServerApp", None, "Jupyter Server 2.10.0 is running at:"),
    ),
    "bind": (
        [
            "05-Jan-2026 10:00:00.123 general: info: zone example.com/IN: loaded serial 2026010501",
            "05-Jan-2026 10:00:01.223 resolver: debug 3: createfetch: example.org A",
            "05-Jan-2026 10:00:02.323 starting BIND 9.18.24-1-Debian (Extended Support Version) <id:>",
        ],
        ("info", "general", None, "zone example.com/IN: loaded serial 2026010501"),
    ),
    "samba": (
        [
            "[2026/01/05 10:00:00.123456,  0] ../../source3/smbd/server.c:1741(main)",
            "  smbd version 4.17.12 started.",
            "  Copyright Andrew Tridgell and the Samba Team 1992-2022",
            "[2026/01/05 10:00:01.223456,  1, pid=2345, effective(0, 0), real(0, 0), class=auth] ../../auth/auth_log.c:760(log_authentication_event_human_readable)",
            "  Auth: [SMB2,(null)] user [WORKGROUP]\\[bob] at [Mon, 05 Jan 2026 10:00:01.223 UTC] with [NTLMv2] status [NT_STATUS_WRONG_PASSWORD]",
        ],
        ("error", "server.c", None, "smbd version 4.17.12 started."),
    ),
    "prefect": (
        [
            "10:00:00.123 | INFO    | prefect.engine - Created flow run 'big-cat' for flow 'sensor-ingest'",
            "10:00:01.223 | WARNING | Task run 'read_file-0' - Task run failed with exception: ValueError('bad row') - Retry 1/3 will start 10 second(s) from now",
            "Traceback (most recent call last):",
            '  File "/app/tasks/read_file.py", line 12, in read_file',
            "ValueError: bad row",
            "10:00:02.323 | DEBUG   | MainThread   | prefect.client - Connecting to API at http://127.0.0.1:4200/api/",
        ],
        ("info", "prefect.engine", None, "Created flow run 'big-cat' for flow 'sensor-ingest'"),
    ),
    "log4j-spring2": (
        [
            "2024-05-01 10:00:00.123  INFO 12345 --- [           main] c.e.demo.DemoApplication                 : Started DemoApplication in 1.234 seconds (JVM running for 1.5)",
            "2024-05-01 10:00:01.223 ERROR 12345 --- [nio-8080-exec-2] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] threw exception",
            "java.lang.IllegalStateException: boom",
            "\tat com.example.demo.Api.get(Api.java:12)",
        ],
        ("info", "c.e.demo.DemoApplication", None, "Started DemoApplication in 1.234 seconds (JVM running for 1.5)"),
    ),
    "log4j-quarkus": (
        ["2024-05-01 10:00:01,223 WARN  [org.keycloak.events] (executor-thread-1) type=LOGIN_ERROR, realmId=master, clientId=app, error=invalid_user_credentials"],
        ("warning", "org.keycloak.events", None, "type=LOGIN_ERROR, realmId=master, clientId=app, error=invalid_user_credentials"),
    ),
    "log4j-trino": (
        ["2024-05-01T10:00:01.223Z\tWARN\tquery-execution-1\tio.trino.execution.QueryStateMachine\tQuery 20240501_100001_00001_abcde failed: line 1:8: Column 'x' cannot be resolved"],
        ("warning", "io.trino.execution.QueryStateMachine", None, "Query 20240501_100001_00001_abcde failed: line 1:8: Column 'x' cannot be resolved"),
    ),
    "elasticsearch-logstash": (
        [
            '[2024-05-01T10:00:00,123][INFO ][logstash.runner          ] Starting Logstash {"logstash.version"=>"8.11.0"}',
            "[2024-05-01T10:00:01,223][WARN ][logstash.outputs.elasticsearch][main][3f1c2a] Attempted to resurrect connection to dead ES instance, but got an error",
        ],
        ("info", "logstash.runner", None, 'Starting Logstash {"logstash.version"=>"8.11.0"}'),
    ),
    "python-logging-fail2ban": (
        ["2024-05-01 10:00:05,123 fail2ban.actions        [1234]: NOTICE  [sshd] Ban 192.0.2.5", "2024-05-01 10:00:06,000 fail2ban.filter         [1234]: INFO    [sshd] Found 192.0.2.6"],
        ("notice", "fail2ban.actions", None, "[sshd] Ban 192.0.2.5"),
    ),
    "python-logging-ansible": (
        ['2024-05-01 10:00:06,223 p=1234 u=root n=ansible | fatal: [web01]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh"}'],
        (None, "ansible", None, 'fatal: [web01]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh"}'),
    ),
    "python-http": (
        ['127.0.0.1 - - [05/Jan/2026 10:00:00] "GET / HTTP/1.1" 200 -', '[05/Jan/2026 10:00:02] "POST /api/ HTTP/1.1" 500 145'],
        ("info", "http", "127.0.0.1", "GET / HTTP/1.1 200 -"),
    ),
    "tensorflow": (
        [
            "2026-01-05 10:00:02.323456: E external/local_xla/xla/stream_executor/cuda/cuda_driver.cc:268] failed call to cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected",
            "2026-01-05 10:00:03.000001: I tensorflow/core/common_runtime/gpu/gpu_device.cc:2022] Created device /job:localhost/replica:0/task:0/device:GPU:0 with 79078 MB memory",
        ],
        ("error", "external/local_xla/xla/stream_executor/cuda/cuda_driver.cc", None, "failed call to cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected"),
    ),
    "ray": (
        [
            "(raylet) [2026-01-05 10:00:00,123 I 1234 1234] main.cc:180: Setting cluster ID to: 5e1fa2b0",
            "[2026-01-05 10:00:03,423 E 1234 1250] (raylet) file_system_monitor.cc:111: /tmp/ray/session_2026-01-05 is over 95% full",
            "2026-01-05 10:00:04,323\tINFO worker.py:1724 -- Started a local Ray instance.",
        ],
        ("info", "main.cc", None, "Setting cluster ID to: 5e1fa2b0"),
    ),
    "mongodb": (
        ["2026-01-05T10:00:01.223+0100 W STORAGE  [initandlisten] Detected unclean shutdown - /data/db/mongod.lock is not empty."],
        ("warning", "STORAGE", None, "Detected unclean shutdown - /data/db/mongod.lock is not empty."),
    ),
    "macos-unified": (
        [
            "Timestamp                       Thread     Type        Activity             PID    TTL",
            "2026-01-05 10:00:02.323456-0800 0x2b3c     Fault       0x4f2                789    14   Safari: (WebKit) WebContent process crashed",
        ],
        ("crit", "Safari", None, "(WebKit) WebContent process crashed"),
    ),
    "zabbix": (
        ["  1235:20260105:100001.223 active check configuration update from [zabbix:10051] started to fail (cannot connect to [[zabbix]:10051]: [111] Connection refused)"],
        (None, None, None, "active check configuration update from [zabbix:10051] started to fail (cannot connect to [[zabbix]:10051]: [111] Connection refused)"),
    ),
    "jvm-unified": (
        [
            "[2026-01-05T10:00:00.123+0100][0.012s][warning][gc,alloc     ] GC(7) To-space exhausted",
            "[2026-01-05T10:00:00.124+0100][0.013s][info   ][gc,heap,exit ] Heap",
            "[2026-01-05T10:00:00.124+0100][0.013s][info   ][gc,heap,exit ]  garbage-first heap   total 262144K, used 3072K",
        ],
        ("warning", "gc,alloc", None, "GC(7) To-space exhausted"),
    ),
    "rust": (
        ["[2026-01-05T10:00:00Z WARN  hyper::proto::h1::io] read_buf: connection reset by peer", "[2026-01-05T10:00:01Z INFO  my_app] ready"],
        ("warning", "hyper::proto::h1::io", None, "read_buf: connection reset by peer"),
    ),
    "rust-tracing": (
        [
            "2026-01-05T10:00:00.123456Z ERROR request{method=POST uri=/v1/orders version=HTTP/1.1}:handle: my_app::orders: insert failed: duplicate key",
            "2026-01-05T10:00:00.223456Z  INFO tower_http::trace::on_response: finished processing request latency=12 ms status=200",
        ],
        ("error", "my_app::orders", None, "insert failed: duplicate key"),
    ),
    "jenkins": (
        [
            "2026-01-05 10:00:00.123+0000 [id=51]\tSEVERE\thudson.model.Executor#finish1: Executor threw an exception",
            "java.lang.IllegalStateException: no workspace",
            "\tat hudson.model.Executor.run(Executor.java:442)",
            "2026-01-05 10:00:01.456+0000 [id=23]\tINFO\tjenkins.InitReactorRunner$1#onAttained: Completed initialization",
        ],
        ("error", "hudson.model.Executor#finish1", None, "Executor threw an exception"),
    ),
    "log4j-tomcat": (
        [
            "01-May-2024 10:00:00.123 INFO [main] org.apache.catalina.startup.Catalina.start Server startup in [1234] milliseconds",
            "01-May-2024 10:00:05.789 SEVERE [http-nio-8080-exec-1] org.apache.catalina.core.StandardWrapperValve.invoke Servlet.service() for servlet [dispatcher] threw exception",
            "\tjava.lang.NullPointerException",
            "\t\tat com.example.App.handle(App.java:42)",
        ],
        ("info", "org.apache.catalina.startup.Catalina.start", None, "Server startup in [1234] milliseconds"),
    ),
    "ruby-logger": (
        [
            'I, [2024-05-01T10:00:00.123456 #1234]  INFO -- : Started GET "/orders" for 127.0.0.1 at 2024-05-01 10:00:00 +0000',
            "W, [2024-05-01T10:00:01.000001 #77]  WARN -- sidekiq: Timeout, retrying in 5 seconds",
            "E, [2024-05-01T10:00:02.423456 #1234] ERROR -- : ActiveRecord::RecordNotFound (Couldn't find Order with 'id'=42)",
        ],
        ("info", None, None, 'Started GET "/orders" for 127.0.0.1 at 2024-05-01 10:00:00 +0000'),
    ),
    "php-fpm": (
        [
            "[01-May-2024 10:05:00] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it",
            "[01-May-2024 10:06:00] NOTICE: [pool www] child 42 exited on signal 9 (SIGKILL) after 120.5 seconds from start",
        ],
        ("warning", None, None, "[pool www] server reached pm.max_children setting (5), consider raising it"),
    ),
    "php-errorlog": (
        [
            "[01-May-2024 10:00:01 Europe/Berlin] PHP Fatal error:  Uncaught Error: Call to undefined function foo() in /var/www/html/index.php:3",
            "Stack trace:",
            "#0 {main}",
            "  thrown in /var/www/html/index.php on line 3",
            "[01-May-2024 10:00:02 UTC] PHP Warning:  Undefined variable $total in /var/www/html/cart.php on line 12",
            "[01-May-2024 10:00:02 UTC] PHP Stack trace:",
            "[01-May-2024 10:00:02 UTC] PHP   1. {main}() /var/www/html/cart.php:0",
        ],
        ("crit", None, None, "Uncaught Error: Call to undefined function foo() in /var/www/html/index.php:3"),
    ),
    "timestamp-prefixed-gunicorn": (
        ["[2024-05-01 10:00:05 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:8)", "[2024-05-01 10:00:05 +0000] [8] [INFO] Worker exiting (pid: 8)"],
        ("crit", None, None, "WORKER TIMEOUT (pid:8)"),
    ),
    "timestamp-prefixed-mysql": (
        [
            "2024-05-01T10:00:00.123456Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld 8.0.36) starting as process 1",
            "2016-02-24T15:26:18.237955 6 [Note] Access denied for user 'root'@'localhost' (using password: YES)",
            "130324  0:04:00 [Warning] Access denied for user 'root'@'192.168.1.35' (using password: NO)",
            "2015-10-07  8:25:38 139845235329792 [Warning] Access denied for user 'user'@'192.0.2.1' (using password: YES)",
        ],
        ("notice", None, None, "[MY-010116] [Server] /usr/sbin/mysqld (mysqld 8.0.36) starting as process 1"),
    ),
    "timestamp-prefixed-serilog": (
        ["2024-05-01 12:00:01.456 +02:00 [WRN] Slow request /orders took 1200 ms", "2024-05-01 12:00:02.789 +02:00 [ERR] Unhandled exception", "System.InvalidOperationException: Sequence contains no elements"],
        ("warning", None, None, "Slow request /orders took 1200 ms"),
    ),
    "timestamp-prefixed-celery": (
        ["[2024-05-01 10:00:02,789: ERROR/ForkPoolWorker-1] Task tasks.add[6c7a1c9e-1b2a-4f4e-9d3a-0a1b2c3d4e5f] raised unexpected: ValueError('bad')"],
        ("error", "ForkPoolWorker-1", None, "Task tasks.add[6c7a1c9e-1b2a-4f4e-9d3a-0a1b2c3d4e5f] raised unexpected: ValueError('bad')"),
    ),
    "dotnet-console": (
        [
            "info: Microsoft.Hosting.Lifetime[14]",
            "      Now listening on: http://localhost:5000",
            "fail: Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware[1]",
            "      An unhandled exception has occurred while executing the request.",
            "      System.InvalidOperationException: Sequence contains no elements",
            "         at WebApp.Controllers.OrdersController.Get(Int32 id) in /src/Controllers/OrdersController.cs:line 27",
            "dbug: Microsoft.Extensions.Hosting.Internal.Host[1]",
            "      Hosting starting",
        ],
        ("info", "Microsoft.Hosting.Lifetime", None, "Now listening on: http://localhost:5000"),
    ),
    "dotnet-console-stamped": (
        [
            "2024-05-01 10:00:01 warn: Microsoft.AspNetCore.DataProtection.Repositories.FileSystemXmlRepository[60]",
            "      Storing keys in a directory '/root/.aspnet/DataProtection-Keys' that may not be persisted outside of the container.",
            "[2024-05-01T10:00:02.1234567Z] info: Microsoft.AspNetCore.Hosting.Diagnostics[1] Request starting HTTP/1.1 GET http://localhost:8080/orders - - -",
        ],
        ("warning", "Microsoft.AspNetCore.DataProtection.Repositories.FileSystemXmlRepository", None,
         "Storing keys in a directory '/root/.aspnet/DataProtection-Keys' that may not be persisted outside of the container."),
    ),
    "jsonl-dotnet": (
        [
            '{"EventId":14,"LogLevel":"Information","Category":"Microsoft.Hosting.Lifetime","Message":"Now listening on: http://[::]:8080","State":{"Message":"Now listening on: http://[::]:8080","address":"http://[::]:8080","{OriginalFormat}":"Now listening on: {address}"}}',
            '{"EventId":0,"LogLevel":"Warning","Category":"Orders.Worker","Message":"Queue depth 1200","State":{"{OriginalFormat}":"Queue depth {Depth}"}}',
        ],
        ("info", "Microsoft.Hosting.Lifetime", None, "Now listening on: http://[::]:8080"),
    ),
    "zeek": (
        [
            "#separator \\x09",
            "#set_separator\t,",
            "#empty_field\t(empty)",
            "#unset_field\t-",
            "#path\tdns",
            "#open\t2024-05-01-10-00-00",
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected",
            "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool",
            "1714557601.000001\tC4J4Th3PJpwUYZZ6gc\t192.168.1.11\t53211\t8.8.8.8\t53\tudp\t4242\t0.012\texample.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t93.184.216.34\t3600.000000\tF",
            "1714557603.2\tCk1Q0m1n2o3p4q5r6\t192.168.1.11\t53212\t8.8.8.8\t53\tudp\t4243\t-\tnope.invalid\t1\tC_INTERNET\t28\tAAAA\t3\tNXDOMAIN\tF\tF\tT\tT\t0\t-\t-\tF",
            "#close\t2024-05-01-11-00-00",
        ],
        ("info", "dns", "192.168.1.11", "A NOERROR example.com"),
    ),
    "jsonl-zeek": (
        [
            '{"ts":1714557600.123456,"uid":"CHhAvVGS1DHFjwGM9","id.orig_h":"192.168.1.10","id.orig_p":51234,"id.resp_h":"93.184.216.34","id.resp_p":80,"trans_depth":1,"method":"GET","uri":"/index.html","version":"1.1","status_code":404,"status_msg":"Not Found"}',
            '{"ts":"2024-05-01T10:00:05.000000Z","uid":"CHhAvVGS1DHFjwGM9","id":{"orig_h":"192.168.1.10","orig_p":51234,"resp_h":"93.184.216.34","resp_p":443},"proto":"tcp","service":"ssl","conn_state":"SF"}',
        ],
        ("warning", None, "192.168.1.10", "GET /index.html 404"),
    ),
    "linux-audit": (
        [
            "type=USER_LOGIN msg=audit(1373330716.415:4063): pid=11998 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=192.0.2.1 terminal=ssh res=failed'",
            "type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2 success=no exit=-13 a0=7fffd19c5592 a1=0 items=1 ppid=2686 pid=3538 comm=\"cat\" exe=\"/usr/bin/cat\" key=\"sshd_config\"\x1dARCH=x86_64 SYSCALL=open AUID=\"shadowman\"",
            "node=web-1 type=CWD msg=audit(1364481363.243:24287): cwd=\"/home/shadowman\"",
        ],
        (None, "USER_LOGIN", None, "USER_LOGIN pid=11998 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=192.0.2.1 terminal=ssh res=failed'"),
    ),
    "java-util-logging": (
        [
            "Dec 04, 2026 10:00:00 AM hudson.WebAppMain$3 run",
            "INFO: Jenkins is fully up and running",
            "Dec 04, 2026 10:00:07 AM hudson.model.UpdateSite updateData",
            "SEVERE: Failed to download update center metadata",
            "java.net.UnknownHostException: updates.jenkins.io",
            "\tat java.base/java.net.InetAddress$CachedAddresses.get(InetAddress.java:801)",
            "apr 15, 2013 8:34:08 PM org.slf4j.impl.JCLLoggerAdapter warn",
            'WARNING: Authentication attempt from 192.0.2.0 for user "null" failed.',
        ],
        ("info", "hudson.WebAppMain$3", None, "Jenkins is fully up and running"),
    ),
    "uwsgi": (
        [
            "*** Starting uWSGI 2.0.21 (64bit) on [Thu May  2 09:59:58 2024] ***",
            "compiled with version: 12.2.0 on 01 May 2024 10:00:00",
            "!!! no internal routing support, rebuild with pcre support !!!",
            "spawned uWSGI worker 1 (pid: 7, cores: 1)",
            "[pid: 7|app: 0|req: 1/1] 10.0.0.5 () {34 vars in 612 bytes} [Thu May  2 10:00:00 2024] GET /orders => generated 12 bytes in 1 msecs (HTTP/1.1 200) 2 headers in 79 bytes (1 switches on core 0)",
            "[pid: 7|app: 0|req: 2/2] 10.0.0.6 (alice) {34 vars in 620 bytes} [Thu May  2 10:00:01 2024] GET /orders/42 => generated 145 bytes in 3 msecs (HTTP/1.1 500) 2 headers in 84 bytes (1 switches on core 0)",
            "DAMN ! worker 1 (pid: 7) died, killed by signal 9 :( trying respawn ...",
            "Respawned uWSGI worker 1 (new pid: 9)",
            "Thu May  2 10:00:31 2024 - *** HARAKIRI ON WORKER 2 (pid: 8, try: 1) ***",
        ],
        ("info", "uwsgi", None, "Starting uWSGI 2.0.21 (64bit)"),
    ),
    "vpc-flow": (
        [
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
            "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK",
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
        ],
        ("warning", "eni-1235b8ca123456789", "172.31.9.69", "REJECT tcp 3389"),
    ),
    "json-document": (
        ['{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"alice"},"eventTime":"2024-05-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.10","errorCode":"AccessDenied","errorMessage":"Access Denied","eventType":"AwsApiCall"},'
         '{"eventVersion":"1.08","eventTime":"2024-05-01T10:00:05Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"ec2.amazonaws.com","eventType":"AwsApiCall"}]}'],
        ("warning", "s3.amazonaws.com", "192.0.2.10", "s3.amazonaws.com GetObject AccessDenied"),
    ),
    "glog": (  # glog 0.7's default header, with the year
        ["I20240308 23:47:32.089828 400441 config.cc:27] Loading user configuration: /home/ana/.config/app/config",
         "E20240308 23:47:33.100000    512 server.cc:118] RPC failed: deadline exceeded"],
        ("info", "config.cc", None, "Loading user configuration: /home/ana/.config/app/config"),
    ),
    "busybox-syslog": (  # a router's /var/log/messages
        [
            "Dec  1 08:00:01 gw daemon.info dnsmasq-dhcp[2345]: DHCPACK(br0) 192.168.1.31 a0:57:e3:00:78:9e laptop",
            "Dec  1 08:00:02 gw kern.warn kernel: [ 1170.826385] [FW-A-LAN_LOCAL_U-2013]IN=br0 OUT= SRC=192.168.1.31",
            "Dec  1 08:00:03 gw syslog.info syslogd started: BusyBox v1.36.1",
            "Dec  1 08:00:04 gw authpriv.err dropbear[99]: Bad password attempt for 'root' from 192.168.1.50:51514",
        ],
        ("info", "dnsmasq-dhcp", "gw", "DHCPACK(br0) 192.168.1.31 a0:57:e3:00:78:9e laptop"),
    ),
    "openwrt-logread": (
        ["Fri Dec  1 08:00:01 2023 daemon.err uhttpd[1500]: luci: failed login on / for root from 192.168.1.10",
         "Fri Dec  1 08:00:02 2023 kern.info kernel: [   12.345678] br-lan: port 1(lan1) entered forwarding state"],
        ("error", "uhttpd", None, "luci: failed login on / for root from 192.168.1.10"),
    ),
    "cups": (
        ["E [01/Dec/2023:08:00:01 +0100] [Job 12] Unable to locate printer \"office\".",
         "I [01/Dec/2023:08:00:02 +0100] Saving printers.conf...", "d [01/Dec/2023:08:00:02.123456 +0100] cupsdSetBusyState: newbusy=\"Not busy\""],
        ("error", None, None, '[Job 12] Unable to locate printer "office".'),
    ),
    "s3-access": (
        [
            '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be lake-raw [01/Dec/2023:08:00:01 +0000] 10.0.3.7 arn:aws:sts::123456789012:assumed-role/etl/job-17 3E57427F3EXAMPLE REST.PUT.OBJECT sensors/2023/12/01/part-0007.parquet "PUT /sensors/2023/12/01/part-0007.parquet HTTP/1.1" 503 SlowDown 312 5242880 38 - "-" "Boto3/1.34.0 Python/3.12.1" - Ax2u7+3sHj0= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader lake-raw.s3.eu-west-1.amazonaws.com TLSv1.3 - -',
            '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be lake-raw [01/Dec/2023:08:00:02 +0000] 10.0.3.7 arn:aws:sts::123456789012:assumed-role/etl/job-17 3E57427F4EXAMPLE REST.GET.OBJECT sensors/2023/12/01/part-0001.parquet "GET /sensors/2023/12/01/part-0001.parquet HTTP/1.1" 200 - 5242880 5242880 61 12 "-" "Boto3/1.34.0 Python/3.12.1" -',
        ],
        ("error", "lake-raw", "10.0.3.7", "REST.PUT.OBJECT PUT /sensors/2023/12/01/part-0007.parquet HTTP/1.1 503 SlowDown"),
    ),
    "sssd": (
        ["(2023-12-01  8:00:01): [be[example.com]] [sdap_async_sys_connect_done] (0x0020): [RID#5] connect failed [111][Connection refused].",
         "(2023-12-01  8:00:01): [be[example.com]] [be_resolve_server_process] (0x0200): Found address for server ldap.example.com: [10.0.0.5] TTL 7200"],
        ("crit", "be[example.com]", None, "[RID#5] connect failed [111][Connection refused]."),
    ),
    "java-wrapper": (
        ["STATUS | wrapper  | 2023/12/01 08:00:01 | --> Wrapper Started as Daemon",
         "INFO   | jvm 1    | 2023/12/01 08:00:03 | 2023-12-01 08:00:03,077 INFO  [main] org.eclipse.jetty.server.Server - Started @2101ms",
         "ERROR  | wrapper  | 2023/12/01 08:30:00 | JVM appears hung: Timed out waiting for signal from JVM."],
        ("notice", "wrapper", None, "--> Wrapper Started as Daemon"),
    ),
    "vmware": (  # an ESXi 8 host's hostd.log through its syslog
        ["2023-12-01T08:00:01.118Z Db(167) Hostd[1001392583]: [Originator@6876 sub=AdapterServer opID=531c52d7-9d8a] New request: target='vim.HostSystem:ha-host'",
         "2023-12-01T08:00:02.987Z Er(163) Hostd[1001392061]: error -[1001392061] [Originator@6876 sub=Default] Failed to read advanced option"],
        ("debug", "Hostd", None, "[Originator@6876 sub=AdapterServer opID=531c52d7-9d8a] New request: target='vim.HostSystem:ha-host'"),
    ),
    "vmware-vpxd": (
        ["2023-12-01T08:00:01.352Z info vpxd[27059] [Originator@6876 sub=SoapAdapter[0].HTTPService opID=x1] Max buffered response size is 104857600 bytes",
         "2023-12-01T08:00:02.001Z warning vpxd[27059] [Originator@6876 sub=drmLogger item=FixNIOCViolation] NIOC violation on host-23"],
        ("info", "vpxd", None, "Max buffered response size is 104857600 bytes"),
    ),
    "access-combined-vhost": (  # Apache's vhost_combined, Debian's other_vhosts_access.log
        ['www.example.com:443 203.0.113.9 - - [01/Dec/2023:08:00:01 +0000] "GET /index.html HTTP/1.1" 200 5120 "-" "curl/8.4.0"',
         'api.example.com:80 203.0.113.10 - alice [01/Dec/2023:08:00:02 +0000] "POST /v1/orders HTTP/1.1" 502 0 "-" "python-requests/2.31.0"'],
        ("info", "www.example.com:443", "203.0.113.9", "GET /index.html HTTP/1.1 200 5120"),
    ),
    "python-logging-cloud-init": (  # /var/log/cloud-init.log, with a traceback
        [
            "2023-12-01 08:00:01,619 - util.py[DEBUG]: Cloud-init v. 23.3.3 running 'init-local' at Fri, 01 Dec 2023 08:00:01 +0000.",
            "2023-12-01 08:00:02,101 - util.py[WARNING]: Failed running /var/lib/cloud/scripts/per-boot/setup.sh [1]",
            "2023-12-01 08:00:02,102 - util.py[DEBUG]: Failed running /var/lib/cloud/scripts/per-boot/setup.sh [1]",
            "Traceback (most recent call last):",
            '  File "/usr/lib/python3/dist-packages/cloudinit/subp.py", line 288, in subp',
            "cloudinit.subp.ProcessExecutionError: Unexpected error while running command.",
        ],
        ("debug", "util.py", None, "Cloud-init v. 23.3.3 running 'init-local' at Fri, 01 Dec 2023 08:00:01 +0000."),
    ),
    "timestamp-prefixed-asterisk": (
        ["[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: Registration from '<sip:301@example.com>' failed for '1.2.3.4' - Wrong password"],
        ("notice", None, None, "[1638] chan_sip.c: Registration from '<sip:301@example.com>' failed for '1.2.3.4' - Wrong password"),
    ),
    "nlog": (  # an ASP.NET Core service's nlog.config, event ids and exceptions (before: leading-time, all in the message)
        ["2023-12-01 08:00:01.0012|14|INFO|Microsoft.Hosting.Lifetime|Now listening on: http://localhost:5000",
         "2023-12-01 08:00:02.5678|0|ERROR|Shop.Api.OrdersController|Order 7 failed System.InvalidOperationException: Sequence contains no elements",
         "   at System.Linq.ThrowHelper.ThrowNoElementsException()",
         "2023-12-01 08:00:03.0001|DEBUG|Shop.Worker|Polling queue orders"],
        ("info", "Microsoft.Hosting.Lifetime", None, "Now listening on: http://localhost:5000"),
    ),
    "sqlserver": (  # ERRORLOG (before: timestamp-prefixed, the source in the message, no level)
        ["2023-12-01 08:00:01.12 Logon       Error: 18456, Severity: 14, State: 8.",
         "2023-12-01 08:00:01.12 Logon       Login failed for user 'sa'. Reason: Password did not match that for the login provided. [CLIENT: 10.0.0.5]",
         "2023-12-01 08:00:05.02 spid9s      Starting up database 'master'."],
        ("error", "Logon", None, "Error: 18456, Severity: 14, State: 8."),
    ),
    "windows-update": (  # Get-WindowsUpdateLog's output (before: timestamp-prefixed, ids and component in the message)
        ["2023/12/01 08:00:01.1234567 1020  4044  ComApi          *RESUMED* Search ClientId = UpdateOrchestrator",
         "2023/12/01 08:00:02.5000000 1020  7132  DownloadManager *FAILED* [80246007] Download of update 0A1B2C3D failed"],
        (None, "ComApi", None, "*RESUMED* Search ClientId = UpdateOrchestrator"),
    ),
    "oracle-alert": (  # alert_ORCL.log, 19c: a time line, then the event's lines (before: not a log file)
        ["2023-12-01T08:00:01.008923+00:00", "Starting ORACLE instance (normal) (OS id: 12345)",
         "2023-12-01T08:00:05.000001+00:00", "ORA-00600: internal error code, arguments: [kcbz_check_objd_typ_3], [], [], []",
         "Errors in file /u01/app/oracle/diag/rdbms/orcl/orcl/trace/orcl_ora_1234.trc  (incident=12345):",
         "Mon Dec  4 09:05:07 2023", "WARNING: inbound connection timed out (ORA-3136)"],
        (None, None, None, "Starting ORACLE instance (normal) (OS id: 12345)"),
    ),
    "logcat-long": (  # `adb logcat -v long` (before: not a log file)
        ["[ 12-01 08:00:01.811  1702: 2395 D/WindowManager ]", "printFreezingDisplayLogs opening app wtoken", "",
         "[ 12-01 08:00:02.001  2395: 2395 E/AndroidRuntime ]", "FATAL EXCEPTION: main", "java.lang.RuntimeException: boom",
         "\tat com.example.Main.onCreate(Main.java:10)", ""],
        ("debug", "WindowManager", None, "printFreezingDisplayLogs opening app wtoken"),
    ),
    "gitea": (  # gitea.log with the default flags (before: timestamp-prefixed, the level letter in the message)
        ["2023/12/01 08:00:01 ...s/graceful/server.go:50:NewServer() [I] Starting new Web server: tcp:0.0.0.0:3000 on PID: 7",
         "2023/12/01 08:00:02 ...rs/web/repo/view.go:123:Home() [E] GetBranch: branch does not exist"],
        ("info", "...s/graceful/server.go:50:NewServer()", None, "Starting new Web server: tcp:0.0.0.0:3000 on PID: 7"),
    ),
    "jsonl-nextcloud": (  # nextcloud.log: levels 0-4 (before: 2 read as syslog's critical), the app as source
        [('{"reqId":"YZ1abc","level":2,"time":"2023-12-01T08:00:01+00:00","remoteAddr":"10.0.0.5","user":"alice","app":"core","method":"POST",'
          '"url":"/login","message":"Login failed: alice (Remote IP: 10.0.0.5)","userAgent":"Mozilla/5.0","version":"28.0.1.1"}'),
         ('{"reqId":"YZ1abd","level":3,"time":"2023-12-01T08:00:02+00:00","remoteAddr":"10.0.0.6","user":"--","app":"PHP","method":"GET",'
          '"url":"/","message":"Undefined index: x at /var/www/nextcloud/lib/base.php#12","userAgent":"curl","version":"28.0.1.1"}')],
        ("warning", "core", None, "Login failed: alice (Remote IP: 10.0.0.5)"),
    ),
    "csv-export": (  # Event Viewer's "Save All Events As" CSV: the description unnamed, multi-line (before: not a log file)
        ["Level,Date and Time,Source,Event ID,Task Category",
         "Information,12/1/2023 8:00:01 AM,Service Control Manager,7036,None,The Windows Update service entered the running state.",
         'Error,12/1/2023 8:00:05 AM,Application Error,1000,(100),"Faulting application name: app.exe, version: 1.0.0.0',
         'Faulting module name: ntdll.dll, version: 10.0.19041.1"'],
        ("info", "Service Control Manager", None, "The Windows Update service entered the running state."),
    ),
    "csv-export-powershell": (  # Get-WinEvent | Export-Csv (PowerShell 5: a #TYPE line), day first
        ["#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord",
         '"Message","Id","Level","ProviderName","LogName","MachineName","TimeCreated","LevelDisplayName"',
         '"The service entered the running state.","7036","4","Service Control Manager","System","ws01.corp.local","01/12/2023 08:00:01","Information"',
         '"Disk 2 has a bad block.","7","2","disk","System","ws01.corp.local","13/12/2023 09:00:00","Error"'],
        ("info", "Service Control Manager", "ws01.corp.local", "The service entered the running state."),
    ),
    "jsonl-log4j2": (  # log4j2's JsonLayout: its time in `instant`, its logger in `loggerName`, an exception in `thrown`
        [('{"instant":{"epochSecond":1701417601,"nanoOfSecond":123000000},"thread":"main","level":"ERROR","loggerName":"com.example.Job",'
          '"message":"Job 7 failed","thrown":{"name":"java.lang.IllegalStateException","message":"boom","extendedStackTrace":"java.lang.IllegalStateException: boom\\n\\tat com.example.Job.run(Job.java:42)"},"endOfBatch":false}'),
         '{"timeMillis":1701417602500,"thread":"main","level":"INFO","loggerName":"com.example.App","message":"Started","endOfBatch":false}'],
        ("error", "com.example.Job", None, "Job 7 failed"),
    ),
}
TIMES = {  # the first line's time, UTC
    "log4j": datetime(2015, 10, 18, 18, 1, 47, 978000, UTC), "log4j-spark": datetime(2017, 6, 9, 20, 10, 40, tzinfo=UTC),
    "logcat": datetime(2023, 3, 17, 16, 13, 38, 811000, UTC), "klog": datetime(2023, 3, 10, 14, 23, 46, 1, UTC),
    "cri": datetime(2016, 10, 6, 0, 17, 9, 669794, UTC), "journald-json": datetime(2012, 7, 17, 16, 1, 1, 416409, UTC),
    "thunderbird": datetime(2005, 11, 9, 20, 1, 1, tzinfo=UTC), "hpc": datetime(2004, 1, 7, 23, 47, 48, tzinfo=UTC),
    "proxifier": datetime(2023, 10, 30, 16, 49, 8, tzinfo=UTC), "healthapp": datetime(2017, 12, 24, 2, 4, 43, 476000, UTC),
    "logfmt": datetime(2025, 6, 24, 14, 36, 25, 123000, UTC), "redis": datetime(2025, 6, 24, 14, 36, 25, 123000, UTC),
    "elasticsearch": datetime(2025, 6, 24, 14, 36, 25, 123000, UTC), "jsonl-mongodb": datetime(2025, 6, 24, 14, 36, 25, 123000, UTC),
    "jsonl-bunyan": datetime(2026, 12, 4, 6, 30, 2, 123000, UTC), "jsonl-pino": datetime(2025, 12, 4, 6, 30, 2, 123000, UTC),
    "w3c": datetime(2024, 5, 1, 12, 34, 56, tzinfo=UTC), "aws-elb": datetime(2024, 5, 1, 12, 34, 57, tzinfo=UTC), "syslog-iso": datetime(2024, 5, 1, 12, 34, 57, 123, UTC), "postgresql": datetime(2024, 5, 1, 12, 35, 2, 456000, UTC),
    "jsonl-clef": datetime(2026, 12, 4, 6, 30, 2, 123456, UTC), "jsonl-gelf": datetime(2025, 12, 4, 6, 30, 2, 250000, UTC),
    "jsonl-suricata": datetime(2024, 5, 1, 10, 0, 0, 123456, UTC), "jsonl-k8s-audit": datetime(2024, 5, 1, 10, 0, 1, tzinfo=UTC),
    "log4j-tomcat": datetime(2024, 5, 1, 10, 0, 0, 123000, UTC), "ruby-logger": datetime(2024, 5, 1, 10, 0, 0, 123456, UTC),
    "php-fpm": datetime(2024, 5, 1, 10, 5, tzinfo=UTC), "timestamp-prefixed-serilog": datetime(2024, 5, 1, 10, 0, 1, 456000, UTC),
    "timestamp-prefixed-mysql": datetime(2024, 5, 1, 10, 0, 0, 123456, UTC),
    "dotnet-console": datetime(2023, 12, 1, tzinfo=UTC), "jsonl-dotnet": datetime(2023, 12, 1, tzinfo=UTC),  # no time: the file's
    "dotnet-console-stamped": datetime(2024, 5, 1, 10, 0, 1, tzinfo=UTC), "zeek": datetime(2024, 5, 1, 10, 0, 1, 1, UTC),
    "jsonl-zeek": datetime(2024, 5, 1, 10, 0, 0, 123456, UTC), "linux-audit": datetime(2013, 7, 9, 0, 45, 16, 415000, UTC),
    "java-util-logging": datetime(2026, 12, 4, 10, 0, tzinfo=UTC), "uwsgi": datetime(2024, 5, 2, 9, 59, 58, tzinfo=UTC),
    "vpc-flow": datetime(2014, 12, 14, 4, 6, 50, tzinfo=UTC), "json-document": datetime(2024, 5, 1, 10, tzinfo=UTC),
    "airflow": datetime(2026, 1, 5, 10, 0, 0, 123000, UTC), "tornado": datetime(2026, 1, 5, 10, 0, 1, tzinfo=UTC),
    "tornado-jupyter": datetime(2026, 1, 5, 10, 0, 2, 123000, UTC), "bind": datetime(2026, 1, 5, 10, 0, 0, 123000, UTC),
    "samba": datetime(2026, 1, 5, 10, 0, 0, 123456, UTC),
    "prefect": datetime(2023, 11, 30, 10, 0, 0, 123000, UTC),
    "log4j-trino": datetime(2024, 5, 1, 10, 0, 1, 223000, UTC), "python-http": datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
    "tensorflow": datetime(2026, 1, 5, 10, 0, 2, 323456, UTC), "ray": datetime(2026, 1, 5, 10, 0, 0, 123000, UTC),
    "jvm-unified": datetime(2026, 1, 5, 9, 0, 0, 123000, UTC), "rust": datetime(2026, 1, 5, 10, tzinfo=UTC),
    "rust-tracing": datetime(2026, 1, 5, 10, 0, 0, 123456, UTC), "jenkins": datetime(2026, 1, 5, 10, 0, 0, 123000, UTC),
    "glog": datetime(2024, 3, 8, 23, 47, 32, 89828, UTC), "busybox-syslog": datetime(2023, 12, 1, 8, 0, 1, tzinfo=UTC),
    "openwrt-logread": datetime(2023, 12, 1, 8, 0, 1, tzinfo=UTC), "cups": datetime(2023, 12, 1, 7, 0, 1, tzinfo=UTC),
    "s3-access": datetime(2023, 12, 1, 8, 0, 1, tzinfo=UTC), "sssd": datetime(2023, 12, 1, 8, 0, 1, tzinfo=UTC),
    "java-wrapper": datetime(2023, 12, 1, 8, 0, 1, tzinfo=UTC), "vmware": datetime(2023, 12, 1, 8, 0, 1, 118000, UTC),
    "access-combined-vhost": datetime(2023, 12, 1, 8, 0, 1, tzinfo=UTC), "python-logging-cloud-init": datetime(2023, 12, 1, 8, 0, 1, 619000, UTC),
    "oracle-alert": datetime(2023, 12, 1, 8, 0, 1, 8923, UTC), "logcat-long": datetime(2023, 12, 1, 8, 0, 1, 811000, UTC),
    "gitea": datetime(2023, 12, 1, 8, 0, 1, tzinfo=UTC), "jsonl-nextcloud": datetime(2023, 12, 1, 8, 0, 1, tzinfo=UTC),
    "csv-export": datetime(2023, 12, 1, 8, 0, 1, tzinfo=UTC), "csv-export-powershell": datetime(2023, 12, 1, 8, 0, 1, tzinfo=UTC),
    "nlog": datetime(2023, 12, 1, 8, 0, 1, 1200, UTC), "sqlserver": datetime(2023, 12, 1, 8, 0, 1, 120000, UTC),
    "windows-update": datetime(2023, 12, 1, 8, 0, 1, 123456, UTC), "jsonl-log4j2": datetime(2023, 12, 1, 8, 0, 1, 123000, UTC),
    "mongodb": datetime(2026, 1, 5, 9, 0, 1, 223000, UTC), "zabbix": datetime(2026, 1, 5, 10, 0, 1, 223000, UTC),  # a time of day alone, the file written at midnight: the day before
}


@pytest.mark.parametrize("case", sorted(REAL))
def test_each_format_reads_its_software_s_lines_into_their_fields(case, tmp_path):
    lines, (level, source, host, message) = REAL[case]
    path = tmp_path / f"{case}.log"
    path.write_text("\n".join(lines) + "\n")
    os.utime(path, (datetime(2023, 12, 1, tzinfo=UTC).timestamp(),) * 2)
    got = read_log(str(path))
    assert got.format == max((n for n in log_formats() if case == n or case.startswith(f"{n}-")), key=len)  # `log4j-kafka`: log4j
    assert got.balanced and not got.quarantined, got.quarantined
    first = {k: (v if isinstance(v, str) else None) for k, v in got.events[0].items() if k != "timestamp"}  # missing: NaN in a frame
    assert (first["level"], first["source"], first["host"], first["message"].split("\n")[0]) == (level, source, host, message)
    if case in TIMES:
        assert got.events[0]["timestamp"] == TIMES[case]


def test_w3c_directives_are_neither_events_nor_quarantined_and_only_they_make_a_file_w3c(tmp_path):
    path = tmp_path / "u_ex240501.log"
    path.write_text("\n".join(REAL["w3c"][0]) + "\n")
    got = read_log(str(path))
    assert (got.format, got.lines, got.blank, len(got.events), got.quarantined) == ("w3c", 8, 5, 3, [])
    assert [(e["level"], e["host"], e["message"]) for e in got.events[1:]] == [("warning", "203.0.113.8", "POST /api/login 401"), ("info", "10.0.0.1", "GET /health 200")]
    start = path.read_bytes().index(b"2024-05-01 13:00:00")  # a later run's read from an offset knows the fields from the head
    assert read_log(str(path), "w3c", start=start).events[0]["message"] == "GET /health 200"
    firewall = tmp_path / "pfirewall.log"  # no request: the rest of the line is the message
    firewall.write_text(
        "#Version: 1.5\n#Software: Microsoft Windows Firewall\n#Time Format: Local\n"
        "#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path\n"
        "2024-05-01 12:34:58 DROP TCP 10.0.0.9 10.0.0.5 51514 3389 52 S 1876543210 0 64240 - - - RECEIVE\n"
    )
    got = read_log(str(firewall))
    assert (got.format, got.events[0]["message"], got.events[0]["level"]) == ("w3c", "DROP TCP 10.0.0.9 10.0.0.5 51514 3389 52 S 1876543210 0 64240 - - - RECEIVE", None)
    plain = tmp_path / "app.log"
    plain.write_text("\n".join(line for line in REAL["w3c"][0] if not line.startswith("#")) + "\n")
    assert read_log(str(plain)).format == "timestamp-prefixed"  # without directives, not taken for W3C
    tabs = tmp_path / "E2ABCDEF.2024-05-01-12.gz"  # CloudFront: tab-separated
    tabs.write_bytes(gzip.compress(b"#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method\n2024-05-01\t12:34:57\tLAX1\t392\t192.0.2.100\tGET\n"))
    got = read_log(str(tabs))
    assert (got.format, got.events[0]["message"], got.events[0]["host"], got.events[0]["source"]) == ("w3c", "LAX1 392 192.0.2.100 GET", "192.0.2.100", "LAX1")


def test_an_aspnet_event_is_its_header_and_the_indented_lines_after_it_read_whole_or_from_an_offset(tmp_path):
    """.NET's console logger writes `level: Category[id]` and the message on the next, indented line: the message
    is that line, an exception's lines stay with it, on both parsers and on a read from an offset."""
    lines = REAL["dotnet-console"][0]
    path = tmp_path / "app.log"
    path.write_text("\n".join(lines) + "\n")
    got = read_log(str(path))
    assert (got.format, got.lines, got.event_lines, got.quarantined) == ("dotnet-console", 8, 8, [])
    assert [(e["level"], e["message"].split("\n")[0]) for e in got.events] == [
        ("info", "Now listening on: http://localhost:5000"), ("error", "An unhandled exception has occurred while executing the request."), ("debug", "Hosting starting")]
    assert got.events[1]["message"].count("\n") == 2 and got.events[1]["message"].endswith("OrdersController.cs:line 27")
    start = path.read_bytes().index(b"fail:")
    assert [e["message"] for e in read_log(str(path), "dotnet-console", start=start).events] == [e["message"] for e in got.events[1:]]
    accented = tmp_path / "accented.log"  # not ASCII: the line-at-a-time parser reads it, the same way
    accented.write_text("\n".join(lines).replace("Hosting starting", "Hôte démarré") + "\n")
    assert [e["message"] for e in read_log(str(accented)).events][2] == "Hôte démarré"


def test_a_java_util_logging_event_takes_its_level_and_message_from_the_line_under_its_header(tmp_path):
    path = tmp_path / "jenkins.log"
    path.write_text("\n".join(REAL["java-util-logging"][0]) + "\n")
    got = read_log(str(path))
    assert (got.format, got.lines, got.event_lines, got.quarantined) == ("java-util-logging", 8, 8, [])
    assert [(e["level"], e["source"], e["message"].split("\n")[0]) for e in got.events] == [
        ("info", "hudson.WebAppMain$3", "Jenkins is fully up and running"),
        ("error", "hudson.model.UpdateSite", "Failed to download update center metadata"),
        ("warning", "org.slf4j.impl.JCLLoggerAdapter", 'Authentication attempt from 192.0.2.0 for user "null" failed.'),
    ]
    assert got.events[1]["message"].count("\n") == 2 and got.events[2]["timestamp"] == datetime(2013, 4, 15, 20, 34, 8, tzinfo=UTC)


def test_uwsgi_s_requests_carry_their_status_and_its_undated_lines_the_time_of_the_line_before(tmp_path):
    path = tmp_path / "uwsgi.log"
    path.write_text("\n".join(REAL["uwsgi"][0]) + "\n")
    os.utime(path, (datetime(2025, 1, 1, tzinfo=UTC).timestamp(),) * 2)
    got = read_log(str(path))
    assert (got.format, got.lines, got.event_lines, got.quarantined) == ("uwsgi", 9, 9, [])
    events = [(e["timestamp"].strftime("%H:%M:%S"), e["level"], e["host"] if isinstance(e["host"], str) else None, e["message"]) for e in got.events]
    assert events == [
        ("09:59:58", "info", None, "Starting uWSGI 2.0.21 (64bit)"),
        ("09:59:58", "info", None, "compiled with version: 12.2.0 on 01 May 2024 10:00:00"),
        ("09:59:58", "warning", None, "!!! no internal routing support, rebuild with pcre support !!!"),
        ("09:59:58", "info", None, "spawned uWSGI worker 1 (pid: 7, cores: 1)"),
        ("10:00:00", "info", "10.0.0.5", "GET /orders HTTP/1.1 200 12"),
        ("10:00:01", "error", "10.0.0.6", "GET /orders/42 HTTP/1.1 500 145"),
        ("10:00:01", "error", None, "DAMN ! worker 1 (pid: 7) died, killed by signal 9 :( trying respawn ..."),
        ("10:00:01", "info", None, "Respawned uWSGI worker 1 (new pid: 9)"),
        ("10:00:31", "error", None, "*** HARAKIRI ON WORKER 2 (pid: 8, try: 1) ***"),
    ]
    start = path.read_bytes().index(b"DAMN !")  # a read from an offset that starts with undated lines: the next dated one's time
    assert [e["timestamp"].strftime("%H:%M:%S") for e in read_log(str(path), "uwsgi", start=start).events] == ["10:00:31"] * 3
    other = tmp_path / "monitorix.log"  # `date - text` is any program's: without uWSGI's own lines, not uWSGI's
    other.write_text("Wed Apr 14 08:11:01 2021 - OK - [127.0.0.1] \"GET /monitorix-cgi/monitorix.cgi\"\nWed Apr 14 08:54:22 2021 - NOTEXIST - [127.0.0.1] File does not exist: /manager/html\n")
    assert read_log(str(other)).format == "leading-time"


def test_undated_lines_among_dated_ones_take_the_time_of_the_line_before(tmp_path):
    """logcat's `brief` lines among `threadtime` ones: the time of the event before them, not the file's."""
    path = tmp_path / "logcat.txt"
    path.write_text(
        "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs\n"
        "D/dalvikvm( 1234): GC_CONCURRENT freed 1024K, 12% free\n"
        "03-17 16:13:39.100  1702  2395 I ActivityManager: Start proc\n"
    )
    os.utime(path, (datetime(2023, 12, 1, tzinfo=UTC).timestamp(),) * 2)
    got = read_log(str(path))
    assert got.format == "logcat" and [e["timestamp"] for e in got.events] == [
        datetime(2023, 3, 17, 16, 13, 38, 811000, UTC), datetime(2023, 3, 17, 16, 13, 38, 811000, UTC), datetime(2023, 3, 17, 16, 13, 39, 100000, UTC)]


def test_a_vpc_flow_log_s_header_names_its_fields_in_a_custom_order_read_whole_or_from_an_offset(tmp_path):
    path = tmp_path / "123456789012_vpcflowlogs_us-east-1_fl-0123_20191213T2345Z_abc.log.gz"
    path.write_bytes(gzip.compress(
        b"version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status\n"
        b"3 vpc-12345678 subnet-012345678 i-0123456789abcdef0 eni-0123456789abcdef0 123456789012 IPv4 10.0.1.5 10.0.0.220 39812 80 10.0.1.5 203.0.113.5 6 3612 6 1576280800 1576280859 ACCEPT 3 OK\n"
        b"3 vpc-12345678 subnet-012345678 i-0123456789abcdef0 eni-0123456789abcdef0 123456789012 IPv4 198.51.100.7 10.0.0.220 51000 22 198.51.100.7 10.0.0.220 6 40 1 1576280801 1576280859 REJECT 2 OK\n"
    ))
    got = read_log(str(path))
    assert (got.format, got.lines, got.blank, got.quarantined) == ("vpc-flow", 3, 1, [])
    assert [(e["host"], e["level"], e["message"]) for e in got.events] == [("10.0.1.5", "info", "ACCEPT tcp 80"), ("198.51.100.7", "warning", "REJECT tcp 22")]
    plain = tmp_path / "flows.log"
    plain.write_bytes(gzip.decompress(path.read_bytes()))
    start = plain.read_bytes().index(b"3 vpc-12345678 subnet-012345678 i-0123456789abcdef0 eni-0123456789abcdef0 123456789012 IPv4 198")
    assert read_log(str(plain), "vpc-flow", start=start).events[0]["message"] == "REJECT tcp 22"  # the header from the head


def test_a_json_document_s_records_are_its_events_and_one_that_is_no_log_s_is_quarantined(tmp_path):
    import json

    export = tmp_path / "export.json"  # pretty-printed, as an export writes it
    records = [{"@timestamp": f"2024-05-01T10:00:0{i}Z", "log.level": ("info", "error")[i % 2], "message": f"payment {i} failed", "service.name": "billing"} for i in range(4)]
    export.write_text(json.dumps([*records[:2], {"total": 4}, *records[2:]], indent=2))
    got = read_log(str(export))
    assert (got.format, got.lines, got.event_lines, got.balanced) == ("json-document", 5, 4, True)
    assert got.quarantined == [{"line": 3, "reason": "record 3 of the document is not a log record (no message, or a time that is none)", "text": '{"total": 4}'}]
    assert [(e["level"], e["source"], e["message"]) for e in got.events][1] == ("error", "billing", "payment 1 failed")
    size = export.stat().st_size
    with export.open("a") as fh:
        fh.write('\n{"appended": true}\n')
    later = read_log(str(export), "json-document", start=size, line_base=5)  # a document is read once: what follows is quarantined
    assert (later.event_lines, [q["line"] for q in later.quarantined], later.balanced) == (0, [7], True)
    data = tmp_path / "measurements.json"  # a document of data, not of logs: not a log file
    data.write_text(json.dumps([{"sensor": "a", "value": 1.5}, {"sensor": "b", "value": 2.5}]))
    with pytest.raises(NotALogFile):
        read_log(str(data))
    lines = tmp_path / "app.jsonl"  # one object per line stays JSON Lines, even one holding a list of objects
    lines.write_text('{"timestamp": "2024-05-01T10:00:00Z", "message": "a", "spans": [{"id": 1}]}\n{"timestamp": "2024-05-01T10:00:01Z", "message": "b"}\n')
    assert read_log(str(lines)).format == "jsonl"


def test_zeek_directives_are_neither_events_nor_quarantined_and_its_fields_say_each_record(tmp_path):
    path = tmp_path / "dns.log"
    path.write_text("\n".join(REAL["zeek"][0]) + "\n")
    got = read_log(str(path))
    assert (got.format, got.lines, got.blank, len(got.events), got.quarantined) == ("zeek", 11, 9, 2, [])
    assert got.events[1]["message"] == "AAAA NXDOMAIN nope.invalid"
    start = path.read_bytes().index(b"1714557603.2")  # a later run's read from an offset knows the fields from the head
    assert read_log(str(path), "zeek", start=start).events[0]["message"] == "AAAA NXDOMAIN nope.invalid"
    notice = tmp_path / "notice.log"
    notice.write_text(
        "#separator \\x09\n#path\tnotice\n#fields\tts\tuid\tid.orig_h\tnote\tmsg\n"
        "1714557605.000000\t-\t192.168.1.10\tScan::Port_Scan\t192.168.1.10 scanned at least 15 unique ports of host 10.0.0.1 in 0m2s\n"
    )
    event = read_log(str(notice)).events[0]
    assert (event["level"], event["source"], event["message"]) == ("warning", "notice", "Scan::Port_Scan: 192.168.1.10 scanned at least 15 unique ports of host 10.0.0.1 in 0m2s")


def test_zeek_dns_records_of_many_names_mine_into_a_template_per_type_and_answer(tmp_path):
    """The query is the many-valued word: last in the message, so that mining groups by type and answer code, not
    by name (with the name first: a template per name)."""
    from lepton_flow.logs.drain import Drain

    head = [line for line in REAL["zeek"][0] if line.startswith("#") and not line.startswith("#close")]
    names = [f"{a}.{b}.example" for a in ("api", "cdn", "mail", "static", "login", "update") for b in ("north", "south", "east", "west", "core")]
    rows = [f"{1714557600 + i}.5\tC{i:08d}\t192.168.1.11\t53211\t8.8.8.8\t53\tudp\t{i}\t0.012\t{names[i % len(names)]}\t1\tC_INTERNET\t1\t"
            f"{('A', 'AAAA')[i % 2]}\t0\t{('NOERROR', 'NXDOMAIN')[i // 7 % 2]}\tF\tF\tT\tT\t0\t-\t-\tF" for i in range(300)]
    path = tmp_path / "dns.log"
    path.write_text("\n".join(head + rows) + "\n")
    got = read_log(str(path))
    assert got.format == "zeek" and len(got.events) == 300
    drain = Drain(similarity=log_formats()["zeek"].drain_similarity)
    templates = {drain.template(tid) for tid in {drain.add(e["message"]) for e in got.events}}
    assert templates == {f"{t} {r} <*>" for t in ("A", "AAAA") for r in ("NOERROR", "NXDOMAIN")}, templates


def test_audit_records_mine_into_one_template_per_kind_and_outcome(tmp_path):
    """The record type leads the message and the fields naming a process, user, file or address are masked: records
    group by type and by what they say (a failed login apart from a successful one, a unit per unit), not by user."""
    import random

    import pyarrow as pa

    from lepton_flow.logs.drain import Drain

    rng = random.Random(3)
    lines, kinds = [], set()
    for i in range(400):
        stamp, user, pid = f"{1700000000 + i * 3}.{rng.randrange(1000):03d}:{1000 + i}", rng.choice(["root", "alice", "deploy"]), rng.randrange(1, 99999)
        kind = rng.randrange(4)
        if kind == 0:
            res = rng.choice(["success", "failed"])
            lines.append(f"type=USER_LOGIN msg=audit({stamp}): pid={pid} uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"{user}\" exe=\"/usr/sbin/sshd\" hostname=? addr=192.0.2.{rng.randrange(1, 255)} terminal=ssh res={res}'")
            kinds.add(("USER_LOGIN", res))
        elif kind == 1:
            unit = rng.choice(["cron", "nginx"])
            lines.append(f"type=SERVICE_START msg=audit({stamp}): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='unit={unit} comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" hostname=? addr=? terminal=? res=success'")
            kinds.add(("SERVICE_START", unit))
        elif kind == 2:
            ok = rng.choice(["yes", "no"])
            lines.append(f"type=SYSCALL msg=audit({stamp}): arch=c000003e syscall=2 success={ok} exit={rng.randrange(-13, 5)} a0={rng.getrandbits(40):x} a1=0 items=1 ppid={pid} pid={pid + 1} auid=1000 uid=1000 tty=pts0 ses=3 comm=\"cat\" exe=\"/usr/bin/cat\" key=\"watch\"")
            lines.append(f"type=CWD msg=audit({stamp}): cwd=\"/home/{user}\"")
            kinds |= {("SYSCALL", ok), ("CWD", "")}
        else:
            lines.append(f"type=PROCTITLE msg=audit({stamp}): proctitle={''.join(f'{ord(c):02X}' for c in rng.choice(['cat', 'vim', 'sshd']) + ' /etc/x')}")
            kinds.add(("PROCTITLE", ""))
    path = tmp_path / "audit.log"
    path.write_text("\n".join(lines) + "\n")
    got = read_log(str(path))
    fmt = log_formats()["linux-audit"]
    drain = Drain(similarity=fmt.drain_similarity)
    ids = {drain.add_masked(m) for m in drain.mask_many(fmt.premask(pa.array([e["message"] for e in got.events]))).to_pylist()}
    templates = sorted(drain.template(tid) for tid in ids)
    assert len(templates) == len(kinds), templates
    assert sum("res=failed" in t for t in templates) == 1 and sum("success=no" in t for t in templates) == 1, templates
    assert not any(user in t for t in templates for user in ("root", "alice", "deploy")), templates


def test_dmesg_s_times_since_boot_are_refused_with_what_to_read_instead(tmp_path):
    from lepton_flow.logs.reader import NotALogFile

    raw = tmp_path / "dmesg.txt"
    raw.write_text("[    0.000000] Linux version 6.1.0-13-amd64\n[    1.234567] usb 1-1: new high-speed USB device number 2\n")
    with pytest.raises(NotALogFile, match=r"dmesg's, timed in seconds since boot, not dates: save them with `dmesg -T`"):
        read_log(str(raw))
    dated = tmp_path / "dmesg-T.txt"  # `dmesg -T`
    dated.write_text("[Wed May  1 12:34:56 2024] usb 1-1: new high-speed USB device number 2 using xhci_hcd\n")
    assert read_log(str(dated)).events[0]["timestamp"] == datetime(2024, 5, 1, 12, 34, 56, tzinfo=UTC)


@pytest.mark.parametrize("stamp", ["May 01 12:34:56", "2024-05-01T12:34:56+0000", "May 01 12:34:56.123456"])
def test_journalctl_s_boot_and_begin_marks_are_not_quarantined(stamp, tmp_path):
    path = tmp_path / "journal.txt"  # `journalctl > journal.txt`, and with `-o short-iso`
    path.write_text(
        "-- Logs begin at Mon 2024-04-29 08:00:01 UTC, end at Wed 2024-05-01 12:35:00 UTC. --\n"
        f"{stamp} ubuntu systemd[1]: Started Session 5 of User ubuntu.\n"
        "-- Boot 3a5f0c2e8b1d4e6f9a7b8c9d0e1f2a3b --\n"
        f"{stamp} ubuntu kernel: Linux version 6.8.0-31-generic\n"
    )
    got = read_log(str(path), year=2024)
    fmt = "syslog-iso" if stamp[0] == "2" else "journalctl" if "." in stamp else "syslog-rfc3164"  # -o short-iso, -o short-precise
    assert (got.format, got.blank, len(got.events), got.quarantined) == (fmt, 2, 2, [])
    assert got.events[0]["timestamp"] == datetime(2024, 5, 1, 12, 34, 56, 123456 if "." in stamp else 0, UTC)


def test_postgresql_s_detail_and_statement_lines_stay_with_their_event(tmp_path):
    path = tmp_path / "postgresql-16-main.log"
    path.write_text("\n".join(REAL["postgresql"][0]) + "\n")
    events = read_log(str(path)).events
    assert [e["level"] for e in events] == ["error", "crit", "info"]
    assert events[0]["message"].endswith("STATEMENT:  SELECT *\n\tFROM orders_old;") and "DETAIL:  Connection matched" in events[1]["message"]
    assert events[1]["timestamp"] == datetime(2024, 5, 1, 12, 35, 3, tzinfo=UTC)  # CEST is UTC+2


def test_java_and_python_stack_traces_stay_with_their_event(tmp_path):
    for case, joined in (("log4j", 2), ("python-logging", 1)):
        path = tmp_path / f"{case}.log"
        path.write_text("\n".join(REAL[case][0]) + "\n")
        got = read_log(str(path))
        events = got.events
        assert got.event_lines == got.lines and len(events) == len(REAL[case][0]) - 3
        assert events[joined - 1]["message"].count("\n") == 3, events[joined - 1]["message"]


@pytest.mark.parametrize("name", ["logcat", "python-logging"])
def test_lines_without_a_time_are_dated_when_the_file_was_written(name, tmp_path):
    line = {"logcat": "D/dalvikvm( 1234): GC_CONCURRENT freed 1024K, 12% free", "python-logging": "WARNING:root:disk usage at 91%"}[name]
    path = tmp_path / "app.log"
    path.write_text(line + "\n")
    written = datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)
    os.utime(path, (written.timestamp(),) * 2)
    got = read_log(str(path))
    assert got.format == name and got.events[0]["timestamp"] == written and got.events[0]["level"] in ("debug", "warning")


def test_a_date_inside_the_message_wins_over_the_file_s_year(tmp_path):
    """HAProxy logs through syslog: the line has no year, the message's `[09/Dec/2013:12:59:46.633]` has one."""
    path = tmp_path / "haproxy.log"
    path.write_text(
        'Dec  9 13:01:26 localhost haproxy[28029]: 127.0.0.1:39759 [09/Dec/2013:12:59:46.633] loadbalancer default/instance8 0/51536/1/48082/99627 200 83285 - - ---- 87/87/87/1/0 0/67 "GET /x HTTP/1.1"\n'
        "Dec  9 13:01:27 localhost haproxy[28029]: Proxy loadbalancer started.\n"
    )
    os.utime(path, (datetime(2026, 1, 2, tzinfo=UTC).timestamp(),) * 2)
    stamps = [e["timestamp"] for e in read_log(str(path)).events]
    assert stamps[0] == datetime(2013, 12, 9, 12, 59, 46, 633000, UTC)
    assert stamps[1] == datetime(2025, 12, 9, 13, 1, 27, tzinfo=UTC)  # no date of its own: the year before the file's January


def test_haproxy_s_http_lines_take_their_status_s_level_and_its_other_lines_keep_theirs(tmp_path):
    """syslog carries HAProxy's request lines without a level: every line was `unknown`, a 503 like a 200. Its HTTP log
    (`option httplog`: five timers, then the status) now counts as access logs do; the TCP log (three timers, no
    status), HAProxy's own messages and a priority the line carries are left as they were."""
    path = tmp_path / "haproxy.log"
    path.write_text(
        'Nov 14 22:45:27 lb haproxy[760]: 192.168.33.1:58444 [14/Nov/2015:22:45:25.439] main app/app1 1939/0/1/0/1940 200 5168 - - ---- 3/3/0/0/0 0/0 "GET / HTTP/1.1"\n'
        'Nov 14 22:45:28 lb haproxy[760]: 2001:db8::1234:58430 [14/Nov/2015:22:45:28.608] main main/<NOSRV> -1/-1/-1/-1/0 401 248 - - PR-- 0/0/0/0/0 0/0 "GET / HTTP/1.1"\n'
        'Nov 14 22:45:29 lb haproxy[760]: 10.0.0.7:40100 [14/Nov/2015:22:45:29.001] web api/srv2 0/0/1/30001/+30002 504 194 - - sH-- 9/9/2/1/0 0/0 {api.example} {} "POST /orders HTTP/1.1"\n'
        "Nov 14 22:45:30 lb haproxy[760]: 10.0.0.8:51000 [14/Nov/2015:22:45:30.100] db-in db/pg1 1/0/5003 0 sC 1/1/1/1/0 0/0\n"
        "Nov 14 22:45:31 lb haproxy[760]: Server api/srv2 is DOWN, reason: Layer4 timeout, check duration: 2001ms.\n"
        '<131>Nov 14 22:45:32 lb haproxy[760]: 10.0.0.9:40200 [14/Nov/2015:22:45:32.001] web api/srv1 0/0/1/2/3 200 194 - - ---- 1/1/1/1/0 0/0 "GET / HTTP/1.1"\n'
        'Nov 14 22:45:33 lb nginx[80]: 10.0.0.9:40200 [14/Nov/2015:22:45:33.001] web api/srv1 0/0/1/2/3 500 194 - - ---- 1/1/1/1/0 0/0 "GET / HTTP/1.1"\n'
    )
    got = read_log(str(path))
    assert got.format == "syslog-rfc3164" and not got.quarantined
    levels = [e["level"] if isinstance(e["level"], str) else None for e in got.events]
    assert levels == ["info", "warning", "error", None, None, "err", None]


def test_a_mixed_folder_gets_each_file_s_most_specific_format(tmp_path):
    """Every format's own examples, a file each: detection names that format (not a broader one that also parses them)."""
    expected = {}
    for name, fmt in sorted(log_formats().items()):
        if name in ("jsonl", "timestamp-prefixed"):
            continue  # catch-alls: their examples belong to them only when nothing narrower reads them
        path = tmp_path / f"{name}.log"
        whole = [e for e in fmt.examples if "\n" in e]  # an example that is a whole export (a header, its row) is a file alone
        path.write_text((whole[0] if whole else "\n".join(fmt.examples)) + "\n")
        expected[path.name] = name
    expected["README.md"] = None
    (tmp_path / "README.md").write_text("# Drop folder\n\nPut logs here.\n")
    got = {}
    for path in sorted(tmp_path.iterdir()):
        try:
            got[path.name] = read_log(str(path), year=2023).format
        except NotALogFile:
            got[path.name] = None
    assert got == expected


def test_syslogd_repeat_lines_are_events_in_any_syslog_file(tmp_path):
    path = tmp_path / "messages"
    path.write_text("Jun 19 04:08:57 combo cups: cupsd shutdown succeeded\nJun 19 04:08:58 combo last message repeated 3 times\n"
                    + "".join(f"Jun 19 04:09:{i % 60:02d} combo sshd[{100 + i}]: session {i} opened\n" for i in range(100))
                    + "Jun 19 04:10:01 combo --- last message repeated 1 time ---\n")
    got = read_log(str(path), year=2005)
    assert got.format == "syslog-rfc3164" and not got.quarantined and got.events[1]["message"] == "last message repeated 3 times"


def test_syslog_lines_stay_syslog_when_the_macos_layout_also_reads_them():
    lines = ["Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186", "Jun 15 04:06:18 combo su(pam_unix)[21416]: session opened for user cyrus by (uid=0)"]
    assert log_formats()["macos-syslog"].detect(lines) == 1.0
    assert detect(lines, 2015) == "syslog-rfc3164"
    assert detect([*lines, "Jul  1 09:03:11 host Microsoft Word[14463]: Sandbox extension consumed"], 2015) == "macos-syslog"


LAYOUTS = [
    # loghub's own notation: regex escapes, an optional part, a double space
    (r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>", None,
     "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200",
     # as loghub's own regex reads it: <Node> stops at the first colon
     ("info", "0:0:0:0:0:0:0:2181:FastLeaderElection", "QuorumPeer[myid=1]/0", "Notification time out: 3200", datetime(2015, 7, 29, 17, 41, 44, 747000, UTC))),
    # written plainly (brackets not escaped: read literally), a Java timestamp pattern
    ("[<Timestamp>] <Level> <Program>: <Content>", "dd.MM.yyyy HH:mm:ss",
     "[03.02.2024 10:11:12] WARN billing: invoice 42 late",
     ("warning", "billing", None, "invoice 42 late", datetime(2024, 2, 3, 10, 11, 12, tzinfo=UTC))),
    # fields of its own pattern, an epoch
    (r"<Time:\d+>\|<Host>\|<Content>", "epoch",
     "1700000000|edge-7|link up",
     (None, None, "edge-7", "link up", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC))),
]


@pytest.mark.parametrize("layout,timestamp,line,want", LAYOUTS)
def test_a_layout_without_code_reads_lines_both_ways_alike(layout, timestamp, line, want, tmp_path):
    fmt = layout_format("mine", layout, timestamp)
    event = fmt.parse(line, 2026)
    assert (event["level"], event["source"], event["host"], event["message"], event["timestamp"]) == want
    index, table = fmt.parse_many(pa.array([line, "not this", line + " again"]), 2026)
    assert index.tolist() == [0, 2] and table.to_pylist()[0] == event


def test_formats_in_the_folder_appear_beside_the_built_in_ones(data_root, caplog):
    from lepton_flow.logs.ingest import LogIngestParams

    folder = data_root / "log-formats"
    folder.mkdir()
    (folder / "billing.toml").write_text('layout = "[<Timestamp>] <Level> <Program>: <Content>"\ntimestamp = "dd.MM.yyyy HH:mm:ss"\n')
    (folder / "broken.toml").write_text('layout = "no fields here"\n')
    (folder / "hdfs.toml").write_text('layout = "<Content>"\n')  # would shadow a built-in
    assert set(folder_formats(str(folder))) == {"billing"}
    assert "broken.toml left out: layout 'no fields here' names no field" in caplog.text and "a built-in format is called 'hdfs'" in caplog.text
    assert "billing" in LogIngestParams.model_json_schema()["properties"]["format"]["enum"]
    path = data_root / "billing.log"
    path.write_text("[03.02.2024 10:11:12] WARN billing: invoice 42 late\n[03.02.2024 10:11:13] INFO billing: invoice 43 paid\n")
    got = read_log(str(path))
    assert got.format == "billing" and [e["message"] for e in got.events] == ["invoice 42 late", "invoice 43 paid"]
    assert LogIngestParams(format="billing").format == "billing"


@pytest.mark.parametrize(
    "line, level, message",
    [
        ("2024-05-01 10:00:00 -1234 items moved", None, "-1234 items moved"),  # a signed number, not an offset
        ("2024-05-01 10:00:00 system rebooting", None, "system rebooting"),  # MySQL's level words only in brackets
        ("2024-05-01 10:00:00 42 users online", None, "42 users online"),  # a number is a pid only before a bracketed level
        ("2024-05-01 10:00:00 ERRORS found: 3", None, "ERRORS found: 3"),
        ("2024-05-01 10:00:00 INFO", None, "INFO"),  # a level word with nothing after it is the message
    ],
)
def test_the_catch_all_reads_a_level_only_where_one_is_written(line, level, message):
    got = log_formats()["timestamp-prefixed"].parse(line, 2024)
    assert (got["level"], got["message"], got["timestamp"]) == (level, message, datetime(2024, 5, 1, 10, tzinfo=UTC))


def test_spaces_written_as_a_regular_expression_read_as_spaces_all_at_once():
    """` +` between fields is what a layout's plain spaces already mean: read all at once too (once it made `\\s++`,
    which RE2 cannot take, and the layout was read a line at a time)."""
    fmt = layout_format("spaced", r"\[<Date> <Time>\] +<Level>: +<Content>")
    lines = ["[2024-05-01 10:00:00]   INFO:  hello", "[2024-05-01 10:00:01] WARN: there"]
    index, table = fmt.parse_many(pa.array(lines), 2024)
    assert index.tolist() == [0, 1] and table.column("message").to_pylist() == ["hello", "there"]
    assert [fmt.parse(line, 2024)["level"] for line in lines] == ["info", "warning"]


def test_layout_parameters_that_cannot_work_are_refused_naming_the_part():
    from pydantic import ValidationError

    from lepton_flow.logs.ingest import LogIngestParams, custom_format

    with pytest.raises(LayoutError, match="names no field"):
        layout_format("x", "just text")
    with pytest.raises(LayoutError, match="'%Q' is not one the reader knows"):
        layout_format("x", "<Time> <Content>", "%Q")
    with pytest.raises(LayoutError, match="names Time more than once"):
        layout_format("x", "<Time> <Time> <Content>")
    # A field's own pattern holding < or > left the field unread: the layout matched nothing, silently.
    with pytest.raises(LayoutError, match=r"the field at '<Logger:' does not close"):
        layout_format("x", r"<Time> <Logger:[\w.]+(?:#[\w<>]+)?>: <Content>")
    with pytest.raises(ValidationError, match="timestamp_format is for a layout"):
        LogIngestParams(timestamp_format="%Y")
    params = LogIngestParams(layout="<Date> <Time> <Level> <Content>")
    assert custom_format(params.layout, params.timestamp_format).name == "layout" and custom_format("") is None
    assert strftime_pattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX") == "%Y-%m-%dT%H:%M:%S.%f%z"


def test_both_parsers_of_every_layout_format_agree_on_lines_built_to_break_them():
    """Dates that do not exist, a leap day in a year without one, Unicode digits, nanoseconds, a broken line: where the
    all-at-once parser takes a line, it gives the event the line parser gives; it never takes one the line parser refuses."""
    for name, fmt in sorted(log_formats().items()):
        if fmt.parse_many is None or not fmt.examples:
            continue
        tricky = []
        for line in fmt.examples:
            tricky += [line, line.replace("10:", "24:", 1), line.replace("-17 ", "-31 ", 1).replace("03-", "04-", 1), line.replace("1", "\u0661", 1),
                       line.replace("10.30", "02.29", 1), line.replace("Jul  1", "Feb 29", 1), line[: len(line) // 2], line.replace(".669794202", ".6697942029999")]
        for year in (2023, 2024):
            index, table = fmt.parse_many(pa.array(tricky, pa.string()), year)
            got = dict(zip(index.tolist(), table.to_pylist()))
            for i, line in enumerate(tricky):
                want = fmt.parse(line, year)
                if i in got:
                    assert want is not None, f"{name}: parse_many took a line parse refuses: {line!r}"
                    assert got[i] == want, (name, line)
            assert len(got) >= len(fmt.examples) // 2, name


def test_a_gzipped_log_of_a_new_format_is_read_like_the_plain_one(tmp_path):
    lines = REAL["oslo-log"][0]
    plain, packed = tmp_path / "nova.log", tmp_path / "nova.log.1.gz"
    plain.write_text("\n".join(lines) + "\n")
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_log(str(plain)).events == read_log(str(packed)).events


def test_a_run_reads_every_file_by_the_layout_its_parameters_give(data_root):
    from lepton_flow.logs.ingest import LogIngestParams, discover, mine_and_commit, read_file
    from tasks.plan_log_run import plan_log_run

    src = data_root / "billing"
    src.mkdir()
    (src / "a.txt").write_text("[03.02.2024 10:11:12] WARN billing: invoice 42 late\n[03.02.2024 10:11:13] INFO billing: invoice 43 paid\nnot one\n")
    run = plan_log_run.fn("layout-run", LogIngestParams(source=str(src), layout="[<Timestamp>] <Level> <Program>: <Content>", timestamp_format="dd.MM.yyyy HH:mm:ss"))
    new, _ = discover(str(src), run)
    refs = [read_file(f, run, "auto", None) for f in new]
    assert [(r.format, r.events, r.unparsed) for r in refs] == [("layout", 2, 1)]
    mine_and_commit(refs, run, None)
    from lepton_flow import store

    assert int(store.open_logs(run.store_url)["count"].sum()) == 2


def test_a_time_of_day_alone_is_dated_by_the_days_that_end_when_the_file_was_written(tmp_path):
    """Prefect's console log (lepton-flow's own too) writes `%H:%M:%S` and no date. The last line is on the last day
    that does not put it after the file was last written (on the writer's clock: the run's `timezone`); each midnight
    between two lines (a time over 12 hours later than the next one's) is a day back; lines a few milliseconds out of
    order are not. Such a file is read whole, not in pieces (its days are counted back from its end)."""
    path = tmp_path / "worker.log"
    path.write_text(
        "23:59:58.100 | INFO    | prefect.engine - Created flow run 'big-cat' for flow 'etl'\n"
        "23:59:59.900 | INFO    | Flow run 'big-cat' - Beginning flow run 'big-cat' for flow 'etl'\n"
        "00:00:00.100 | WARNING | Task run 'load-0' - Retrying\n"
        "00:00:00.050 | INFO    | Task run 'load-1' - Finished in state Completed()\n"
        "09:30:00.000 | ERROR   | prefect.flow_runs.worker - Flow run 'big-cat' exited with non-zero exit code 1.\n"
    )
    written = datetime(2026, 3, 2, 9, 30, 5, tzinfo=UTC).timestamp()  # 04:30:05 in New York
    os.utime(path, (written, written))

    def times(**kw):
        got = read_log(str(path), **kw)
        assert got.format == "prefect" and not got.more and not got.quarantined
        return [t.isoformat(timespec="milliseconds") for t in pd.to_datetime(got.frame["timestamp"], utc=True)]

    assert times() == ["2026-03-01T23:59:58.100+00:00", "2026-03-01T23:59:59.900+00:00", "2026-03-02T00:00:00.100+00:00",
                       "2026-03-02T00:00:00.050+00:00", "2026-03-02T09:30:00.000+00:00"]
    # In New York the file was written at 04:30: its 09:30 line is the day before's, and its midnight the one before that.
    assert times(timezone="America/New_York") == ["2026-03-01T04:59:58.100+00:00", "2026-03-01T04:59:59.900+00:00", "2026-03-01T05:00:00.100+00:00",
                                                  "2026-03-01T05:00:00.050+00:00", "2026-03-01T14:30:00.000+00:00"]
    assert times(max_bytes=100) == times()  # asked for pieces of 100 bytes: read whole
    custom = layout_format("custom", "<Time> <Level> <Content>", "HH:mm:ss")
    assert custom.dayless and not log_formats()["log4j"].dayless and not log_formats()["syslog-rfc3164"].dayless
    path.write_text("22:00:00 INFO before midnight\n01:00:00 INFO after it\n")
    os.utime(path, (written, written))
    got = read_log(str(path), custom)
    assert [t.isoformat() for t in pd.to_datetime(got.frame["timestamp"], utc=True)] == ["2026-03-01T22:00:00+00:00", "2026-03-02T01:00:00+00:00"]


def test_times_written_without_a_zone_are_read_in_the_zone_a_run_names(data_root):
    """syslog, log4j's default layouts and most application logs write local time without saying which: a run's
    `timezone` reads them as that zone's and stores UTC (JSON's and logfmt's zone-less times too). Times with an offset,
    and epochs, stay the instants they say; daylight saving's repeated hour reads as its first pass, a time it skips as
    the first one after it."""
    from lepton_flow.logs.ingest import LogIngestParams, discover, mine_and_commit, read_file
    from tasks.plan_log_run import plan_log_run

    src = data_root / "berlin"
    src.mkdir()
    (src / "auth.log").write_text(
        "Jan  5 10:00:00 host sshd[1]: Accepted password for a\n"  # CET, +01:00
        "Jul  5 10:00:00 host sshd[2]: Accepted password for b\n"  # CEST, +02:00
        "2026-01-05T10:00:00+03:00 host app[3]: an offset of its own\n"
    )
    (src / "app.log").write_text(
        "2026-03-29 02:30:00,000 INFO [main] a.B: in the hour the clocks skip\n"
        "2026-10-25 02:30:00,000 INFO [main] a.B: in the hour the clocks repeat\n"
        '2026-01-05 10:00:00,000 INFO [main] a.B: {"at": "written as it was"}\n'
    )
    (src / "svc.jsonl").write_text(
        '{"ts": 1767607200, "level": "info", "msg": "an epoch"}\n{"time": "2026-01-05T10:00:00Z", "level": "info", "msg": "UTC"}\n'
        '{"asctime": "2026-01-05 10:00:00,000", "levelname": "INFO", "name": "app", "message": "python-json-logger: local, no zone"}\n'
    )
    (src / "kv.log").write_text('time=2026-01-05T10:00:00 level=info msg="no zone: local"\nts=2026-01-05T10:00:00Z level=info msg="UTC"\n')
    run = plan_log_run.fn("zone-run", LogIngestParams(source=str(src), year=2026, timezone="Europe/Berlin"))
    new, _ = discover(str(src), run)
    times = {}
    for f in new:
        got = read_log(f.url, "auto", 2026, timezone=run.timezone)
        times[os.path.basename(f.url)] = [t.isoformat() for t in pd.to_datetime(got.frame["timestamp"], utc=True)]
    assert times == {
        "auth.log": ["2026-01-05T09:00:00+00:00", "2026-07-05T08:00:00+00:00", "2026-01-05T07:00:00+00:00"],
        "app.log": ["2026-03-29T01:00:00+00:00", "2026-10-25T00:30:00+00:00", "2026-01-05T09:00:00+00:00"],
        "svc.jsonl": ["2026-01-05T10:00:00+00:00", "2026-01-05T10:00:00+00:00", "2026-01-05T09:00:00+00:00"],
        "kv.log": ["2026-01-05T09:00:00+00:00", "2026-01-05T10:00:00+00:00"],
    }
    refs = [read_file(f, run, "auto", 2026) for f in new]
    mine_and_commit(refs, run, None)
    from lepton_flow import store

    stored = store.open_logs(run.store_url)
    counted = stored["count"].sum("template")
    windows = {str(t)[:16]: int(c) for t, c in zip(counted["time"].values, counted.values) if c}
    assert windows == {"2026-01-05T07:00": 1, "2026-01-05T09:00": 4, "2026-01-05T10:00": 3, "2026-03-29T01:00": 1, "2026-07-05T08:00": 1, "2026-10-25T00:30": 1}
    # PostgreSQL writes its log_timezone's abbreviation: one it names for one offset is that offset; one naming several
    # (IST: India's, Ireland's, Israel's) is the run's zone.
    pg = data_root / "pg.log"
    pg.write_text("2026-01-05 15:30:00.000 IST [7] LOG:  checkpoint starting: time\n2026-01-05 11:00:00.000 CET [7] LOG:  checkpoint complete\n")
    got = read_log(str(pg), "auto", timezone="Asia/Kolkata")
    assert got.format == "postgresql" and [t.isoformat() for t in pd.to_datetime(got.frame["timestamp"], utc=True)] == ["2026-01-05T10:00:00+00:00"] * 2
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        LogIngestParams(timezone="Mars/Olympus")


def test_iso_like_times_read_all_at_once_are_the_times_strptime_reads():
    """The all-at-once reader takes pandas' ISO 8601 reader for the common `yyyy-MM-dd HH:mm:ss[,SSS]` patterns: each
    value it gives is `datetime.strptime`'s, and what it cannot give as strptime does (one-digit fields) it leaves."""
    from lepton_flow.logs.layout import _ISO_LIKE, _NAT, _read_many, _Time

    for pattern in _ISO_LIKE:
        t = _Time.of(pattern)
        base = datetime(2024, 2, 29, 23, 59, 59, 999999).strftime(pattern)
        values = [base, base.replace("2024-02-29", "2026-02-29"), base.replace("02-29", "04-31"), base.replace("23:", "24:", 1), base.replace(":59:59", ":59:60"),
                  base.replace("-02-", "-2-"), base.replace("23:", "3:", 1), base.replace("2024", "0001"), base.replace("-02-", "-13-"), base.replace("-29", "-00")]
        if "%f" in pattern:
            values += [base[:-5], base + "123", base[:-6] + "5"]
        got = _read_many(pa.array(values), t, 2026)
        for value, micros in zip(values, got.tolist()):
            want = t.read(value, 2026)
            if micros != _NAT:
                assert want is not None and pd.Timestamp(micros, unit="us", tz="UTC").to_pydatetime() == want, (pattern, value)
            elif "-2-" not in value and " 3:" not in value and "T3:" not in value:
                assert want is None, (pattern, value)  # left to `parse` only where strptime refuses it too, or a field has one digit


def test_a_layout_re2_cannot_take_apart_is_read_line_by_line():
    """An unnamed group (or a look-around) in a field's own pattern: Arrow cannot split lines by it, so every line goes
    through Python's parser, with the same events."""
    fmt = layout_format("x", r"<Time:(\d+)> (?=\w)<Content>", "epoch")
    assert fmt.parse("1700000000 hello", 2026)["message"] == "hello"
    index, _ = fmt.parse_many(pa.array(["1700000000 hello"]), 2026)
    assert index.size == 0


@pytest.mark.parametrize(
    "name, line",
    [
        ("logfmt", 'level=info msg="no time here" component=web'),  # no time key
        ("logfmt", 'ts=2025-06-24T14:36:25Z level=info msg="an unclosed quote'),  # not all pairs
        ("logfmt", "ts=2025-13-40T99:00:00Z level=info msg=impossible"),  # a time that is none
        ("logfmt", "2025-06-24 14:36:25 INFO plain text, not pairs"),
        ("redis", "1:M 24 Jun 2025 14:36:25.123 ! unknown level mark"),
        ("redis", "1:M 31 Feb 2025 14:36:25.123 * no such day"),
        ("elasticsearch", "[2025-13-24T14:36:25,123][INFO ][o.e.n.Node] [node-1] month 13"),
        ("elasticsearch", "[2025-06-24 14:36:25,123][INFO ][o.e.n.Node] [node-1] no T between date and time"),
        ("program-time", "update-alternatives 2025-06-24 14:36:53 no colon after the time"),
        ("program-time", "update-alternatives 2025-02-30 14:36:53: no such day"),
        ("jsonl", '{"t": {"$date": "not a date"}, "s": "I", "msg": "bad time"}'),
        ("apt", "Start-Date: 2025-02-31  14:36:25"),  # no such day
        ("apt", "Commandline: apt-get install -y curl"),  # a stanza's body, not its start
        ("ruby-logger", "I, [2024-05-01T10:00:00.123456 #1234]  NOTICE -- : not one of Logger's levels"),
        ("php", "[31-Feb-2024 10:00:00] NOTICE: no such day"),
        ("php", "[01-May-2024 10:00:00 UTC] PHP Oops:  not one of PHP's levels"),
        ("jsonl", '{"timestamp":"2024-05-01T10:00:00Z","flow_id":1,"src_ip":"10.0.0.5"}'),  # EVE-like without its event type
        ("jsonl", '{"apiVersion":"audit.k8s.io/v1","requestReceivedTimestamp":"2024-05-01T10:00:00Z","stage":"ResponseComplete"}'),  # no verb
        ("jsonl", '{"Message":"a record with neither a time nor a level","Category":"Orders"}'),
        ("jsonl", '{"Timestamp":"yesterday","LogLevel":"Warning","Message":"a time that is none"}'),
        ("dotnet-console", "info: Microsoft.Hosting.Lifetime 14 no brackets around the event id"),
        ("dotnet-console", "information: Microsoft.Hosting.Lifetime[14] not one of its four-letter levels"),
        ("dotnet-console", "2024-02-30 10:00:00 info: Orders.Worker[0] no such day"),
        ("zeek", "1714557600.123456 CHhAvVGS1DHFjwGM9 192.168.1.10 separated by spaces, not tabs"),
        ("linux-audit", "type=SYSCALL msg=audit(1364481363:24287): arch=c000003e no milliseconds"),
        ("linux-audit", "type=syscall msg=audit(1364481363.243:24287): a record type in lower case"),
        ("java-util-logging", "Apr 31, 2013 8:34:08 PM org.example.App main"),  # no such day
        ("java-util-logging", "Apr 15, 2013 20:34:08 PM org.example.App main"),  # a 12-hour clock
        ("java-util-logging", "INFO: a level line without its header"),
        ("uwsgi", "[pid: 7|app: 0|req: 1/1] 10.0.0.5 () {34 vars in 612 bytes} [Thu Feb 30 10:00:00 2024] GET / => generated 1 bytes in 1 msecs (HTTP/1.1 200)"),
        ("uwsgi", "Internal Server Error: /orders/42"),  # the application's, not uWSGI's
        ("vpc-flow", "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ALLOW OK"),
        ("json-document", '{"Records": []}'),
        ("json-document", '[{"eventTime": "2024-05-01T10:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject"}, {"message": "a second record"}]'),  # read whole
        ("vpc-flow", "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 141853001 1418530070 ACCEPT OK"),
        ("uwsgi", "[pid: 7|app: 0|req: 1/1] 10.0.0.5 () [Thu May  2 10:00:00 2024] GET / => generated 1 bytes in 1 msecs (HTTP/1.1 200)"),
        ("zeek", "17145576001234\tCHhAvVGS1DHFjwGM9\tnot epoch seconds"),
        ("python-http", '127.0.0.1 - - [05/Jan/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 -'),  # Apache's: access-combined's
        ("python-http", '127.0.0.1 - - [31/Feb/2026 10:00:00] "GET / HTTP/1.1" 200 -'),
        ("tensorflow", "2026-01-05 10:00:00.123: I tensorflow/core/x.cc:1] milliseconds, not microseconds"),
        ("ray", "[2026-01-05 10:00:00,123 X 1234 1234] main.cc:180: not one of its level letters"),
        ("mongodb", "2026-01-05T10:00:00.123+0000 Q NETWORK  [conn1] not one of its severities"),
        ("macos-unified", "2026-01-05 10:00:00.123456+0100 0x1a2b     Notice      0x0                  123    0    kernel: not one of its types"),
        ("zabbix", "  1234:20260132:100000.123 no such day"),
        ("jvm-unified", "[0.012s][info][gc] Using G1"),  # uptime alone: no date
        ("jvm-unified", "[2026-01-05T10:00:00.123+0000][notice][gc] not one of the JVM's levels"),
        ("rust", "[2026-01-05T10:00:00Z NOTICE my_app] not one of the crate's levels"),
        ("rust", "2026-01-05T10:00:00.123456Z  INFO no target before the message"),
        ("rust", "2026-01-05T10:00:00.123456Z  INFO web: a word, not a module path, is any app's (timestamp-prefixed's)"),
        ("jenkins", "2026-01-05 10:00:00.123+0000 [id=51]\tFATAL\thudson.Foo#bar: not a java.util.logging level"),
        ("jenkins", "2026-01-05 10:00:00.123 [id=51]\tINFO\thudson.Foo#bar: no offset"),
        ("prefect", "10:00:00 | INFO    | prefect.engine - no milliseconds"),
        ("prefect", "25:00:00.123 | INFO    | prefect.engine - hour 25"),
        ("prefect", "10:00:00.123 | NOTICE  | prefect.engine - not one of Python's levels"),
        ("airflow", "[2026-01-05T10:00:00.123+0000] taskinstance.py:1159 INFO - no braces around the file and line"),
        ("airflow", "[2026-01-05T10:00:00.123+0000] {taskinstance.py:1159} INFO: a colon, not a dash"),
        ("tornado", "[X 260105 10:00:00 web:2239] not one of its level letters"),
        ("tornado", "[I 261305 10:00:00 web:2239] month 13"),
        ("bind", "05-Jan-2026 10:00:00 general: info: no milliseconds"),
        ("bind", "31-Feb-2026 10:00:00.123 general: info: no such day"),
        ("samba", "[2026/01/05 10:00:00.123456,  0] a header with no place in the source"),
        ("samba", "[2026/02/30 10:00:00.123456,  0] ../../source3/smbd/server.c:1741(main)"),
        ("glog", "I20241308 23:47:32.089828 400441 config.cc:27] month 13"),
        ("glog", "I0308 23:47:32.089828 400441 config.cc:27] no year: klog's"),
        ("busybox-syslog", "Mar  2 23:24:28 gw user.loud kernel: not a severity"),
        ("busybox-syslog", "Mar  2 23:24:28 gw kernel: no facility: BSD syslog's"),
        ("openwrt-logread", "Thu Mar  2 23:24:28 kern.warn kernel: no year"),
        ("openwrt-logread", "Thu Feb 30 23:24:28 2023 kern.warn kernel: no such day"),
        ("cups", "Q [04/Nov/2010:17:37:40 -0400] not one of its level letters"),
        ("cups", "E [31/Apr/2010:17:37:40 -0400] no such day"),
        ("s3-access", 'owner lake-raw [01/Dec/2023:08:00:01 +0000] 10.0.3.7 - 3E57427F rest.get.object key "GET /key HTTP/1.1" 200 - 1 1 1 1 "-" "-"'),
        ("s3-access", 'owner lake-raw [01/Dec/2023:08:00:01 +0000] 10.0.3.7 - 3E57427F REST.GET.OBJECT key "GET /key HTTP/1.1" 200 -'),  # cut short
        ("sssd", "(2024-05-01 10:00:00): [nss] [cache_req_done] (0400): no 0x before the level"),
        ("sssd", "(2024-02-30 10:00:00): [nss] [cache_req_done] (0x0400): no such day"),
        ("java-wrapper", "INFO   | jvm 1    | 2015-04-28 18:40:00 | dashes, not slashes"),
        ("java-wrapper", "INFO   | tomcat   | 2015/04/28 18:40:00 | not the wrapper or a JVM"),
        ("vmware", "2022-06-02T02:56:51.640Z Xx(14) vmsyslogd[1]: not a severity"),
        ("vmware", "2022-06-02T02:56:51.640Z loud vpxd[123] [Originator@6876 sub=X] not one of its levels"),
    ],
)
def test_the_service_formats_refuse_lines_that_are_not_theirs(name, line):
    """Each new format's broken lines: the format reads no event from them (the reader then quarantines the line)."""
    assert log_formats()[name].parse(line, 2025) is None


def test_apt_stanzas_are_one_event_each_with_their_body_and_a_broken_one_is_quarantined(tmp_path):
    """Debian's apt logs as apt writes them: history.log's stanzas (blank line between), term.log's with a maintainer
    script's blank lines inside one. Each stanza is one event holding its lines; a stanza whose start line names no
    real day is quarantined line by line, and lines before the first stanza too."""
    history = tmp_path / "history.log"
    history.write_text(
        "\nStart-Date: 2025-06-24  14:36:25\nCommandline: apt-get -qqy upgrade\n"
        "Upgrade: libudev1:amd64 (252.36-1~deb12u1, 252.38-1~deb12u1)\nEnd-Date: 2025-06-24  14:36:25\n\n"
        "Start-Date: 2025-06-24  14:37:36\nCommandline: apt-get install -qqy make\nRequested-By: admin (1000)\n"
        "Install: make:amd64 (4.3-4.1)\nEnd-Date: 2025-06-24  14:37:38\n"
    )
    got = read_log(str(history))
    assert got.format == "apt" and got.balanced and not got.quarantined
    assert (got.lines, got.blank, got.event_lines, len(got.events)) == (11, 2, 9, 2)
    assert got.events[1]["message"].splitlines()[:2] == ["apt run", "Commandline: apt-get install -qqy make"]
    assert got.events[1]["timestamp"] == datetime(2025, 6, 24, 14, 37, 36, tzinfo=UTC)
    term = tmp_path / "term.log"
    term.write_text(
        "Setting up tzdata (2025b-0+deb12u1) ...\n\nLog started: 2025-06-24  14:36:29\nSelecting previously unselected package tzdata.\n"
        "Setting up tzdata (2025b-0+deb12u1) ...\n\nCurrent default time zone: 'Etc/UTC'\nLocal time is now:      Sat May  9 07:28:50 UTC 2026.\n"
        "Log ended: 2025-06-24  14:36:31\n\nLog started: 2025-02-31  10:00:00\nUnpacking make (4.3-4.1) ...\nLog ended: 2025-02-31  10:00:01\n"
    )
    got = read_log(str(term))
    assert got.format == "apt" and got.balanced and len(got.events) == 1
    assert "Current default time zone: 'Etc/UTC'" in got.events[0]["message"]  # past the blank line inside the stanza
    assert [q["line"] for q in got.quarantined] == [1, 11, 12, 13]  # before any stanza; the stanza dated 31 February



def _read_in_pieces(path, fmt: str, max_bytes: int = 1024) -> tuple[list, list]:
    """Events and quarantined line numbers of `path` read as a run reads it: from where each read stopped, `max_bytes` at a time."""
    from lepton_flow.logs.reader import open_log

    events, quarantined, start, line_base = [], [], 0, 0
    with open_log(str(path)) as source:
        for _ in range(1000):
            got = read_log(str(path), fmt, start=start, line_base=line_base, max_bytes=max_bytes, source=source)
            assert got.balanced
            events += got.events
            quarantined += [q["line"] for q in got.quarantined]
            start, line_base = got.end, got.line_base + got.lines
            if not got.more:
                return events, quarantined
    raise AssertionError("the reads did not get to the end")


def test_container_records_carry_the_application_s_lines_with_their_traces_read_whole_or_in_pieces(tmp_path):
    """Docker's json-file and the CRI write each line an application prints as a record of its own. The event takes the
    application's level, logger and message (its format found from the file's first records), and a traceback's
    lines, a record each, stay with their event though another stream's records come between; read in pieces, the
    same events. Records of plain output keep the stream as their source."""
    def record(text, stream, second):
        return json.dumps({"log": text + "\n", "stream": stream, "time": f"2024-05-01T10:{second // 60:02d}:{second % 60:02d}.000000001Z"})

    lines = []
    for k in range(40):
        lines += [
            record(f"2024-05-01 10:00:{k % 60:02d},100 INFO [main] app.worker: job {k} started", "stderr", 3 * k),
            record("GET /healthz 200", "stdout", 3 * k),
            record(f"2024-05-01 10:00:{k % 60:02d},200 ERROR [main] app.worker: job {k} failed", "stderr", 3 * k + 1),
            record("Traceback (most recent call last):", "stderr", 3 * k + 1),
            record('  File "/app/worker.py", line 42, in run', "stderr", 3 * k + 1),
            record("GET /healthz 200", "stdout", 3 * k + 1),
            record("    result = job()", "stderr", 3 * k + 1),
            record("ZeroDivisionError: division by zero", "stderr", 3 * k + 2),
        ]
    path = tmp_path / "container.log"
    path.write_text("\n".join(lines) + "\n")
    whole = read_log(str(path))
    assert (whole.format, whole.lines, whole.event_lines, whole.quarantined) == ("docker-json", 320, 320, [])
    assert len(whole.events) == 40 * 4
    first = [(e["level"], e["source"], e["message"]) for e in whole.events[:4]]
    assert first[0] == ("info", "app.worker", "job 0 started") and first[1][1:] == ("stdout", "GET /healthz 200")
    trace = 'Traceback (most recent call last):\n  File "/app/worker.py", line 42, in run\n    result = job()\nZeroDivisionError: division by zero'
    assert first[2] == ("error", "app.worker", "job 0 failed\n" + trace)
    pieces, quarantined = _read_in_pieces(path, whole.format)
    assert quarantined == [] and [(e["line"], e["level"], e["source"], e["message"]) for e in pieces] == [
        (e["line"], e["level"], e["source"], e["message"]) for e in whole.events]

    cri = tmp_path / "cri.log"  # Kubernetes' /var/log/pods: a Java service's log4j lines and a trace, then plain output
    cri.write_text(
        "2024-05-01T10:00:00.123456789Z stdout F 2024-05-01 10:00:00,123 ERROR [qtp-7] com.example.Api - request failed\n"
        "2024-05-01T10:00:00.123500000Z stdout F java.lang.IllegalStateException: boom\n"
        "2024-05-01T10:00:00.123600000Z stdout F \tat com.example.Api.handle(Api.java:42)\n"
        "2024-05-01T10:00:01.000000000Z stdout F 2024-05-01 10:00:01,000 INFO  [main] com.example.Api - next\n"
    )
    got = read_log(str(cri))
    assert [(e["level"], e["source"], e["message"].split("\n")) for e in got.events] == [
        ("error", "com.example.Api", ["request failed", "java.lang.IllegalStateException: boom", "\tat com.example.Api.handle(Api.java:42)"]),
        ("info", "com.example.Api", ["next"])]
    plain = tmp_path / "plain.log"
    plain.write_text("".join(record(f"tick {k}", "stdout", k) + "\n" for k in range(5)) + '{"log":"cut short","stream":"std' + "\n")
    got = read_log(str(plain))  # a record cut short is quarantined, the others read
    assert [(e["level"], e["source"], e["message"]) for e in got.events][:1] == [(None, "stdout", "tick 0")]
    assert (len(got.events), [q["line"] for q in got.quarantined]) == (5, [6])
    quiet = tmp_path / "quiet.log"  # stderr's trace ended long before stdout's last records: nothing waits for it
    quiet.write_text(record("2024-05-01 10:00:00,200 ERROR [main] app.worker: failed", "stderr", 0) + "\n"
                     + record("ZeroDivisionError: division by zero", "stderr", 0) + "\n"
                     + "".join(record(f"tick {k}", "stdout", 60 + k) + "\n" for k in range(20)))
    got = read_log(str(quiet), final=False)  # as a run reads a file still being written
    assert (len(got.events), got.lines, got.pending) == (21, 22, 0)


def test_a_line_the_runtime_cut_into_records_is_one_event_again_read_whole_in_pieces_or_as_it_grows(tmp_path):
    """Docker's json-file and the CRI cut a line longer than 16 kB into records (Docker: a `log` without its line end;
    the CRI: tag `P`) that the stream's next record finishes, with the other stream's records between. Each such line is
    one event again, its text exactly as the application wrote it (a part that begins with a space keeps it), read whole
    or in pieces; a growing file whose last record is cut short keeps that line for the read that finishes it."""
    import random

    rnd = random.Random(7)
    texts, docker, cri, t = [], [], [], 0

    def at(t):
        return f"2024-05-01T10:00:{t // 1000:02d}.{t % 1000:03d}000000Z"

    for k in range(200):
        text = f"line {k} " + "".join(rnd.choice("ab ") for _ in range(rnd.randint(5, 150)))
        texts.append(text)
        cuts = sorted(rnd.sample(range(1, len(text)), 3)) if k % 3 == 0 else []
        parts = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
        for j, part in enumerate(parts):
            last = j == len(parts) - 1
            t += 1
            docker.append(json.dumps({"log": part + ("\n" if last else ""), "stream": "stdout", "time": at(t)}, separators=(",", ":")))
            cri.append(f"{at(t)} stdout {'F' if last else 'P'} {part}")
            if rnd.random() < 0.3:  # the other stream's line between the parts
                t += 1
                texts.append(f"warn {t}")
                docker.append(json.dumps({"log": f"warn {t}\n", "stream": "stderr", "time": at(t)}, separators=(",", ":")))
                cri.append(f"{at(t)} stderr F warn {t}")
    for name, records in (("docker.log", docker), ("cri.log", cri)):
        path = tmp_path / name
        path.write_text("\n".join(records) + "\n")
        whole = read_log(str(path))
        assert (whole.lines, whole.event_lines, whole.quarantined) == (len(records), len(records), [])
        assert sorted(e["message"] for e in whole.events) == sorted(texts)  # before: 468 events, a part each
        pieces, quarantined = _read_in_pieces(path, whole.format, 4096)
        assert quarantined == [] and [(e["line"], e["message"]) for e in pieces] == [(e["line"], e["message"]) for e in whole.events]

    growing = tmp_path / "growing.log"  # the writer has written a line's first part; its last comes later
    held = f"{at(9000)} stdout P first half, \n"
    growing.write_text(f"{at(8999)} stdout F ready\n" + held)
    got = read_log(str(growing), final=False)  # as a run reads a file still being written
    assert ([e["message"] for e in got.events], got.lines, got.pending) == (["ready"], 1, len(held))  # before: both, the half alone
    with open(growing, "a") as fh:
        fh.write(f"{at(9001)} stdout F second half\n")
    rest = read_log(str(growing), start=got.end, line_base=got.lines)
    assert [(e["line"], e["message"]) for e in rest.events] == [(2, "first half, second half")]


def test_a_trace_a_program_sent_to_syslog_or_the_journal_a_line_at_a_time_is_one_event(tmp_path):
    """rsyslog escapes control characters (`#011` a tab, `#012` a line end, `#033` a terminal code: on by default), and
    a service's trace reaches syslog and the journal a record per line. The escapes are put back, and a record that
    continues the one before of the same host, program and process joins its event across other programs' lines; a
    trace that opens a process's lines is an event of its own, and a line that names no process joins nothing. Read
    whole or in pieces, the same events."""
    lines = [
        "Dec  5 10:00:00 web1 java[2211]: 2024-12-05 10:00:00,123 ERROR [main] App - boom#012java.lang.IllegalStateException: bad#012#011at App.run(App.java:10)",
        "Dec  5 10:00:01 web1 CRON[3001]: (root) CMD (run-parts /etc/cron.hourly)",
        'Dec  5 10:00:02 web1 java[2211]: Exception in thread "worker-1" java.lang.NullPointerException: x is null',
        "Dec  5 10:00:02 web1 java[2211]: #011at Worker.step(Worker.java:44)",
        "Dec  5 10:00:02 web2 java[2211]: worker-1 started",  # the same program on another host
        "Dec  5 10:00:02 web1 java[2211]: #011at java.base/java.lang.Thread.run(Thread.java:833)",
        "Dec  5 10:00:03 web1 python3[900]: Traceback (most recent call last):",
        'Dec  5 10:00:03 web1 python3[900]:   File "/srv/app.py", line 3, in <module>',
        "Dec  5 10:00:03 web1 python3[900]: ZeroDivisionError: division by zero",
        "Dec  5 10:00:04 web1 systemd[1]: #033[0;1;31mFailed to start app.service#033[0m",
    ]
    path = tmp_path / "syslog"
    path.write_text(("\n".join(lines) + "\n") * 30)
    got = read_log(str(path), year=2024)
    assert (got.format, got.lines, got.event_lines, got.quarantined) == ("syslog-rfc3164", 300, 300, [])
    assert [(e["host"], e["source"], e["message"]) for e in got.events[:6]] == [
        ("web1", "java", "2024-12-05 10:00:00,123 ERROR [main] App - boom\njava.lang.IllegalStateException: bad\n\tat App.run(App.java:10)"),
        ("web1", "CRON", "(root) CMD (run-parts /etc/cron.hourly)"),
        ("web1", "java", ('Exception in thread "worker-1" java.lang.NullPointerException: x is null\n\tat Worker.step(Worker.java:44)\n'
                          "\tat java.base/java.lang.Thread.run(Thread.java:833)")),
        ("web2", "java", "worker-1 started"),
        ("web1", "python3", 'Traceback (most recent call last):\n  File "/srv/app.py", line 3, in <module>\nZeroDivisionError: division by zero'),
        ("web1", "systemd", "Failed to start app.service"),
    ]  # before: 10 events, `#012#011at` in the first, each frame and the colour codes an event's text
    assert len(got.events) == 6 * 30
    pieces, quarantined = _read_in_pieces(path, got.format, 2048)
    assert quarantined == [] and [(e["line"], e["message"]) for e in pieces] == [(e["line"], e["message"]) for e in got.events]
    sudo = tmp_path / "auth.log"  # sudo names no process: its indented line is each command's own, never a trace's
    sudo.write_text("Dec  5 10:00:00 web1 sudo: pam_unix(sudo:session): session closed for user root\n"
                    "Dec  5 10:00:01 web1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update\n"
                    "Dec  5 10:00:01 web1 python3[901]:   File \"/srv/app.py\", line 3, in <module>\n"
                    "Dec  5 10:00:02 web1 python3[902]:   File \"/srv/app.py\", line 3, in <module>\n")
    assert len(read_log(str(sudo), year=2024).events) == 4  # another process of the same program: its own event too
    growing = tmp_path / "growing"  # as a run reads a file still being written: the trace at its end may go on
    growing.write_text("Dec  5 10:00:00 web1 CRON[3001]: (root) CMD (run-parts /etc/cron.hourly)\n"
                       "Dec  5 10:00:01 web1 python3[900]: Traceback (most recent call last):\n"
                       'Dec  5 10:00:01 web1 python3[900]:   File "/srv/app.py", line 3, in <module>\n')
    got = read_log(str(growing), year=2024, final=False)
    assert ([e["message"] for e in got.events], got.lines) == (["(root) CMD (run-parts /etc/cron.hourly)"], 1)  # before: the trace cut

    journal = tmp_path / "journal.json"  # `journalctl -o json`: a worker's traceback on stdout, an entry a line
    entries = ["job 7 failed", "Traceback (most recent call last):", '  File "/srv/w.py", line 9, in run', "KeyError: 'id'", "job 8 done"]
    journal.write_text("".join(json.dumps({"__REALTIME_TIMESTAMP": str(1733392800000000 + i), "_HOSTNAME": "n1", "PRIORITY": "3" if i < 4 else "6",
                                           "SYSLOG_IDENTIFIER": "sshd" if i == 2 and k else "worker", "_PID": "77" if i == 2 and k else "5",
                                           "MESSAGE": "Connection closed" if i == 2 and k else m}) + "\n"
                               for i, m in enumerate(entries) for k in ((0, 1) if i == 2 else (0,))))
    got = read_log(str(journal))
    assert [(e["source"], e["level"], e["message"]) for e in got.events] == [
        ("worker", "error", "job 7 failed\nTraceback (most recent call last):\n  File \"/srv/w.py\", line 9, in run\nKeyError: 'id'"),
        ("sshd", "error", "Connection closed"), ("worker", "info", "job 8 done")]
    docker = tmp_path / "docker-journal.json"  # Docker's journald driver cuts a long line, flagging each part but the last
    parts = [("x" * 16384, True), ("y" * 16384, True), ("z end", False)]
    docker.write_text("".join(json.dumps({"__REALTIME_TIMESTAMP": str(1733392800000000 + i), "_HOSTNAME": "n1", "PRIORITY": "6", "_PID": "812",
                                          "SYSLOG_IDENTIFIER": "web", "MESSAGE": text, **({"CONTAINER_PARTIAL_MESSAGE": "true"} if cut else {})}) + "\n"
                              for i, (text, cut) in enumerate(parts)))
    assert [e["message"] for e in read_log(str(docker)).events] == ["x" * 16384 + "y" * 16384 + "z end"]  # before: three events


def test_a_json_record_s_exception_is_kept_with_its_message_as_a_text_log_keeps_its_trace(tmp_path):
    """JSON loggers put the exception beside the message, under names of their own; the event's message is the message
    then the trace, as a text log's event is, read all at once or line by line."""
    from lepton_flow.logs.formats.jsonl import parse

    trace = "java.lang.IllegalStateException: boom\n\tat com.example.Job.run(Job.java:42)"
    records = [
        {"@timestamp": "2024-05-01T10:00:00Z", "level": "ERROR", "logger_name": "com.example.Job", "message": "job failed", "stack_trace": trace},  # logstash-logback-encoder
        {"@timestamp": "2024-05-01T10:00:01Z", "log.level": "error", "message": "job failed", "error.stack_trace": trace},  # ECS
        {"asctime": "2024-05-01T10:00:02", "levelname": "ERROR", "name": "app", "message": "job failed",
         "exc_info": "Traceback (most recent call last):\n  File \"/app/job.py\", line 3, in run\nValueError: boom"},  # python-json-logger
        {"@t": "2024-05-01T10:00:03Z", "@l": "Error", "@mt": "job failed", "@x": "System.InvalidOperationException: boom\n   at Job.Run()"},  # Serilog
        {"instant": {"epochSecond": 1714557604, "nanoOfSecond": 0}, "level": "ERROR", "loggerName": "com.example.Job", "message": "job failed",
         "thrown": {"name": "java.lang.IllegalStateException", "message": "boom",
                    "extendedStackTrace": [{"class": "com.example.Job", "method": "run", "file": "Job.java", "line": 42}]}},  # log4j2
        {"time": "2024-05-01T10:00:05Z", "level": "error", "msg": "job failed"},  # none: the message alone
    ]
    path = tmp_path / "app.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    got = read_log(str(path))
    messages = [e["message"] for e in got.events]
    assert messages == [parse(json.dumps(r), 2024)["message"] for r in records]
    assert [m.split("\n")[1] if "\n" in m else None for m in messages] == [
        "java.lang.IllegalStateException: boom", "java.lang.IllegalStateException: boom", "Traceback (most recent call last):",
        "System.InvalidOperationException: boom", "java.lang.IllegalStateException: boom", None]
    assert messages[4].endswith("\tat com.example.Job.run(Job.java:42)") and got.events[4]["timestamp"] == pd.Timestamp("2024-05-01T10:00:04Z")
    assert {e["level"] for e in got.events} == {"error"}  # before: the messages alone, and log4j2's record dated by the file


@pytest.mark.parametrize("case", ["oracle-alert", "logcat-long"])
def test_a_header_line_s_event_is_the_lines_below_it_up_to_the_next_header(case, tmp_path):
    """Oracle's alert log and `logcat -v long` write the time (and level, tag) on a line of its own and the message on
    the lines below: each header and its lines are one event, its first line the message, read whole or in pieces."""
    lines, _ = REAL[case]
    path = tmp_path / f"{case}.log"
    path.write_text("\n".join(lines * 40) + "\n")
    got = read_log(str(path))
    per = {"oracle-alert": [1, 2, 1], "logcat-long": [1, 3]}[case]  # body lines of each event of one copy
    assert (got.format, got.quarantined, len(got.events)) == (case, [], 40 * len(per))
    assert [e["message"].count("\n") + 1 for e in got.events[: len(per)]] == per
    assert got.event_lines + got.blank == got.lines == 40 * len(lines)
    pieces, quarantined = _read_in_pieces(path, case, 700)
    assert quarantined == [] and [(e["line"], e["message"]) for e in pieces] == [(e["line"], e["message"]) for e in got.events]


def test_a_csv_export_of_events_is_read_by_its_header_and_a_csv_of_readings_is_not_a_log(tmp_path):
    """Event Viewer's CSV (the description in a column its header does not name, line ends inside quotes), PowerShell's
    Export-Csv with its #TYPE line (day-first dates: a 13th tells), Splunk's export; a row whose time does not read is
    quarantined by its record number; a CSV of readings (no message column) stays no log file."""
    viewer = tmp_path / "system.csv"
    viewer.write_text("Level,Date and Time,Source,Event ID,Task Category\n"
                      "Information,12/5/2024 10:00:00 AM,Service Control Manager,7036,None,The Windows Update service entered the running state.\n"
                      'Error,12/5/2024 1:00:05 PM,Application Error,1000,(100),"Faulting application name: app.exe, version: 1.0.0.0\n'
                      'Faulting module name: ntdll.dll"\n'
                      "Warning,not a time,Time-Service,36,None,The time service has not synchronized.\n")
    got = read_log(str(viewer))
    assert (got.format, got.lines, got.event_lines, [q["line"] for q in got.quarantined]) == ("csv-export", 3, 2, [3])
    assert [(str(e["timestamp"]), e["level"], e["source"], e["message"]) for e in got.events] == [
        ("2024-12-05 10:00:00+00:00", "info", "Service Control Manager", "The Windows Update service entered the running state."),
        ("2024-12-05 13:00:05+00:00", "error", "Application Error", "Faulting application name: app.exe, version: 1.0.0.0\nFaulting module name: ntdll.dll")]
    ps = tmp_path / "security.csv"
    ps.write_text('#TYPE System.Diagnostics.EventLogEntry#Security/Microsoft-Windows-Security-Auditing/4625\n'
                  '"EventID","MachineName","EntryType","Message","Source","TimeGenerated"\n'
                  '"4625","dc01","FailureAudit","An account failed to log on.","Microsoft-Windows-Security-Auditing","05/12/2024 14:00:00"\n'
                  '"4624","dc01","SuccessAudit","An account was successfully logged on.","Microsoft-Windows-Security-Auditing","13/12/2024 09:00:00"\n')
    got = read_log(str(ps))
    assert [(str(e["timestamp"]), e["level"], e["host"]) for e in got.events] == [
        ("2024-12-05 14:00:00+00:00", "warning", "dc01"), ("2024-12-13 09:00:00+00:00", "info", "dc01")]
    readings = tmp_path / "readings.csv"
    readings.write_text("timestamp,sensor_id,temperature\n2024-12-05T10:00:00Z,s1,21.5\n2024-12-05T10:01:00Z,s1,21.6\n")
    with pytest.raises(NotALogFile):
        read_log(str(readings))
