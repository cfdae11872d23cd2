#!/usr/bin/env python3
"""Checks the deployment files where no Docker engine or Kubernetes cluster runs.

  ops/check-deploy.py --switchboard BIN --compose DOCKER_COMPOSE [--metrics FILE]

- docker-compose.yml: `docker-compose config` (the PyPI docker-compose validates the file
  offline), then what must hold for `--scale node=5`, health checks and the load balancer;
- ops/haproxy/haproxy.cfg: `haproxy -c`, and that it targets the nodes' ports and /readyz;
- ops/k8s/: every manifest parses, probes name the node's paths, admin port and scheme, the
  secrets, config maps and TLS files referenced exist or are mounted, selectors match, the
  grace period covers the drain, NetworkPolicies let only nodes reach Redis and the
  backends and only gateway clients the Gateway API;
- ops/prometheus.yml and the Grafana dashboard: they scrape the node's admin port and use only
  metrics the node exports (`--metrics`: a node's /metrics text);
- every command the Dockerfile, compose file and manifests run is a real `switchboard`
  subcommand taking the flags and SWITCHBOARD_* variables given to it.
Prints one line per check; exits 1 if any failed.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODE_PORT, API_PORT, ADMIN_PORT = 8080, 8081, 8082
failures = []


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what)
    if not condition:
        failures.append(what)
    return condition


def run(argv, **kwargs):
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, **kwargs)


def help_text(switchboard, command, cache={}):
    if command not in cache:
        # An unknown subcommand prints the top-level help: require this one's usage line.
        result = run([switchboard, command, "--help"])
        text = result.stdout + result.stderr
        cache[command] = text if result.returncode == 0 and f"USAGE: switchboard {command}" in text else None
    return cache[command]


def check_command(switchboard, where, argv, env_names):
    """argv as the image's entrypoint (`switchboard`) receives it."""
    if not check(bool(argv), f"{where}: runs a command"):
        return
    text = help_text(switchboard, argv[0])
    if not check(text is not None, f"{where}: `switchboard {argv[0]}` is a subcommand"):
        return
    for flag in [a.split("=")[0] for a in argv[1:] if a.startswith("--")]:
        check(flag in text, f"{where}: `switchboard {argv[0]}` takes {flag}")
    for name in env_names:
        if name.startswith("SWITCHBOARD_"):
            check(name in text, f"{where}: `switchboard {argv[0]}` reads {name}")


def seconds(text):
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", str(text))
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0) if match else int(text)


def dockerfile(switchboard):
    text = open(os.path.join(ROOT, "ops/Dockerfile")).read()
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    check(len(stages) >= 2, "Dockerfile: multi-stage")
    check("swift:6" in text and "SWIFT_IMAGE" in stages[0], "Dockerfile: builds with the official Swift 6 image")
    check(stages[-1].endswith("-slim"), "Dockerfile: runs on a slim image")
    check(re.search(r"apt-get install[^\n]*libhiredis0\.14", text) is not None, "Dockerfile: runtime has libhiredis")
    check(re.search(r"^USER\s+(?!0\b|root\b)\S+", text, re.M) is not None, "Dockerfile: runs as a non-root user")
    entrypoint = re.search(r'^ENTRYPOINT\s+\["switchboard"\]', text, re.M)
    check(entrypoint is not None, "Dockerfile: entrypoint is switchboard")
    cmd = re.search(r"^CMD\s+(\[.*\])", text, re.M)
    env = re.findall(r"\b(SWITCHBOARD_[A-Z_]+)=", text)
    if check(cmd is not None, "Dockerfile: has a default CMD"):
        check_command(switchboard, "Dockerfile CMD", yaml.safe_load(cmd.group(1)), [])
    for name in env:
        check(any(name in (help_text(switchboard, c) or "") for c in ("node", "backends", "cluster")),
              f"Dockerfile ENV {name}: some subcommand reads it")
    return text


def compose(switchboard, compose_bin, docker_text):
    bare = run([compose_bin, "-f", "docker-compose.yml", "config", "-q"], env={"PATH": os.environ.get("PATH", "")})
    check(bare.returncode != 0 and any(name in bare.stderr for name in ("SWITCHBOARD_JWT_SECRET", "SWITCHBOARD_PUSH_SECRET", "SWITCHBOARD_REDIS_PASSWORD")),
          "compose: ships no secret (config without the secrets is refused, naming one)")
    only_redis = run([compose_bin, "-f", "docker-compose.yml", "config", "-q"],
                     env={"PATH": os.environ.get("PATH", ""), "SWITCHBOARD_REDIS_PASSWORD": "x"})
    check(only_redis.returncode != 0 and "SWITCHBOARD_JWT_SECRET" in only_redis.stderr,
          "compose: config without SWITCHBOARD_JWT_SECRET is refused, naming it")
    secrets = {"SWITCHBOARD_JWT_SECRET": "check-deploy-jwt-secret-of-32-bytes-or-more",
               "SWITCHBOARD_PUSH_SECRET": "check-deploy-push-secret",
               "SWITCHBOARD_REDIS_PASSWORD": "check-deploy-redis-password"}
    without = run([compose_bin, "-f", "docker-compose.yml", "config", "-q"],
                  env={"PATH": os.environ.get("PATH", ""), **{k: v for k, v in secrets.items() if k != "SWITCHBOARD_REDIS_PASSWORD"}})
    check(without.returncode != 0 and "SWITCHBOARD_REDIS_PASSWORD" in without.stderr,
          "compose: Redis has a password, and none is shipped (config without SWITCHBOARD_REDIS_PASSWORD is refused)")
    result = run([compose_bin, "-f", "docker-compose.yml", "--profile", "observability", "config"],
                 env={"PATH": os.environ.get("PATH", ""), **secrets})
    if not check(result.returncode == 0, "docker-compose config accepts docker-compose.yml" + (
            "" if result.returncode == 0 else ": " + result.stderr.strip())):
        return
    services = yaml.safe_load(result.stdout)["services"]
    for name in ("redis", "node", "backends", "lb"):
        check(name in services, f"compose: service {name}")
    for name, service in services.items():
        check("healthcheck" in service or service.get("restart") == "no", f"compose: {name} has a health check (or runs once)")
        for volume in service.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
            if os.path.isabs(source):
                check(os.path.exists(source), f"compose: {name} mounts {os.path.relpath(source, ROOT)}, which exists")
        if service.get("image", "").startswith("switchboard") or "build" in service:
            env = service.get("environment", {})
            check_command(switchboard, f"compose {name}", service.get("command", ["node"]), list(env))
            tools = service.get("healthcheck", {}).get("test", [])
            if len(tools) > 1 and tools[0] == "CMD" and tools[1] == "curl":
                check("curl" in docker_text, f"compose: {name}'s health check tool (curl) is in the image")
    node = services.get("node", {})
    env = node.get("environment", {})
    check("container_name" not in node and "ports" not in node, "compose: node has no fixed name or host port (scales)")
    check("SWITCHBOARD_NODE_ID" not in env, "compose: node ids come from the container host name")
    check(env.get("SWITCHBOARD_REDIS") == "redis://redis:6379", "compose: nodes share the redis service")
    check(capped(services.get("redis", {}).get("command", [])), "compose: redis has a maxmemory with noeviction")
    redis_command = services.get("redis", {}).get("command", [])
    check("--requirepass" in redis_command and env.get("SWITCHBOARD_REDIS_PASSWORD") == redis_command[redis_command.index("--requirepass") + 1],
          "compose: nodes sign in to Redis with its requirepass")
    check(services.get("grafana", {}).get("environment", {}).get("GF_AUTH_ANONYMOUS_ENABLED") in (None, "false"),
          "compose: Grafana requires sign-in")
    redis_cluster(compose_bin, switchboard, secrets)
    check(node.get("deploy", {}).get("replicas") == 3, "compose: three nodes by default")
    health = " ".join(node.get("healthcheck", {}).get("test", []))
    admin = env.get("SWITCHBOARD_ADMIN_PORT")
    check(admin == str(ADMIN_PORT) and admin in [str(p) for p in node.get("expose", [])], "compose: nodes serve /metrics on the admin port, exposed to the network only")
    check(f"127.0.0.1:{ADMIN_PORT}/readyz" in health, "compose: node health check is /readyz on the admin port")
    drain = int(env.get("SWITCHBOARD_DRAIN_WINDOW", 10))
    check(seconds(node.get("stop_grace_period", "10s")) > drain, "compose: stop_grace_period is longer than the drain window")
    backends = services.get("backends", {})
    for key in ("SWITCHBOARD_LOCATION_BACKEND", "SWITCHBOARD_CHAT_BACKEND", "SWITCHBOARD_NOTIFICATION_BACKEND"):
        host, _, port = env.get(key, ":").partition(":")
        check(host == "backends" and port in [str(p) for p in backends.get("expose", [])], f"compose: {key} is a port backends exposes")
    check(backends.get("environment", {}).get("SWITCHBOARD_GATEWAY") == f"lb:{API_PORT}", "compose: backends push through the load balancer")
    lb = services.get("lb", {})
    lb_address = ((lb.get("networks") or {}).get("default") or {}).get("ipv4_address")
    check(lb_address is not None and env.get("SWITCHBOARD_TRUSTED_PROXIES") == lb_address,
          "compose: nodes trust the PROXY protocol from the load balancer's fixed address, and only from it")
    lb_ports = [str(p.get("target")) if isinstance(p, dict) else str(p).split(":")[-1] for p in lb.get("ports", [])]
    check(str(NODE_PORT) in lb_ports and str(API_PORT) in lb_ports, "compose: the load balancer publishes the WebSocket and Gateway API ports")


def capped(argv):
    """A redis-server command line with a memory cap that never evicts: an evicted lease
    would have other nodes sweep a live node's users; an evicted inbox loses durable pushes."""
    argv = list(argv)
    value = lambda flag: argv[argv.index(flag) + 1] if flag in argv and argv.index(flag) + 1 < len(argv) else None
    return value("--maxmemory") not in (None, "0") and value("--maxmemory-policy") == "noeviction"


def redis_cluster(compose_bin, switchboard, secrets):
    """The redis-cluster profile: six cluster-mode servers, a one-shot job joining them with
    one replica each, and the nodes on them when SWITCHBOARD_REDIS names them (a URL the
    node accepts)."""
    url = "redis+cluster://redis-cluster-1:6379,redis-cluster-2:6379,redis-cluster-3:6379"
    result = run([compose_bin, "-f", "docker-compose.yml", "--profile", "redis-cluster", "config"],
                 env={"PATH": os.environ.get("PATH", ""), "SWITCHBOARD_REDIS": url, **secrets})
    if not check(result.returncode == 0, "docker-compose config accepts the redis-cluster profile" + (
            "" if result.returncode == 0 else ": " + result.stderr.strip())):
        return
    services = yaml.safe_load(result.stdout)["services"]
    members = [f"redis-cluster-{i}" for i in range(1, 7)]
    for name in members:
        command = services.get(name, {}).get("command", [])
        check("--cluster-enabled" in command and "yes" in command, f"compose: {name} runs in cluster mode")
        check(capped(command), f"compose: {name} has a maxmemory with noeviction")
    init = services.get("redis-cluster-init", {})
    script = " ".join(init.get("command", []))
    check("--cluster create" in script and "--cluster-replicas 1" in script and all(m in script for m in members),
          "compose: redis-cluster-init joins all six with one replica each")
    check(sorted(init.get("depends_on", {})) == members, "compose: redis-cluster-init waits for all six")
    check(services.get("node", {}).get("environment", {}).get("SWITCHBOARD_REDIS") == url, "compose: SWITCHBOARD_REDIS moves the nodes to the cluster")
    parsed = run([switchboard, "node", "--redis", url, "--jwt-secret", "x" * 32, "--push-secret", "y" * 16, "--check-config"])
    check(parsed.returncode == 0, "compose: the node accepts the cluster URL" + ("" if parsed.returncode == 0 else ": " + parsed.stderr.strip()))


def haproxy():
    path = "ops/haproxy/haproxy.cfg"
    text = re.sub(r"#[^\n]*", "", open(os.path.join(ROOT, path)).read())
    check(re.search(rf"server-template\s+\S+\s+\S+\s+node:{NODE_PORT}\b.*\bcheck port {ADMIN_PORT}\b.*resolvers", text) is not None,
          "haproxy: WebSocket upstreams are every `node` replica, health-checked on the admin port, by DNS")
    check(re.search(rf"server-template\s+\S+\s+\S+\s+node:{NODE_PORT}\b.*\bsend-proxy-v2\b", text) is not None,
          "haproxy: WebSocket connections carry the client's address (PROXY protocol v2)")
    check(re.search(rf"server-template\s+\S+\s+\S+\s+node:{API_PORT}\b.*\bcheck port {ADMIN_PORT}\b", text) is not None,
          "haproxy: Gateway API upstreams are every `node` replica, checked on the admin port")
    check(text.count("option httpchk GET /readyz") == 2, "haproxy: upstream checks use /readyz")
    check(re.search(r"timeout tunnel\s+\d+h", text) is not None, "haproxy: long tunnel timeout for WebSockets")
    check("shutdown-sessions" not in text, "haproxy: a draining node's clients are left to its paced drain")
    http_frontends = re.findall(r"frontend[^\n]*\n(?:(?!frontend|backend)[^\n]*\n)*", text)
    check(all("mode http" not in f or ("option httplog" not in f and re.search(r"%\{[^}]*\}r|%r\b|%HU|%HQ", f) is None) for f in http_frontends)
          and "log-format" in text, "haproxy: request logs carry no query string (clients' tokens)")
    check(re.search(r"retry-on[^\n]*\b503\b", text) is not None and "option redispatch" in text,
          "haproxy: an upgrade refused 503 (draining) is retried on another node")
    binary = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
    if check(binary is not None, "haproxy is installed to check the file (scripts/test.sh installs it)"):
        result = run([binary, "-c", "-f", path])
        check(result.returncode == 0, "haproxy -c accepts ops/haproxy/haproxy.cfg" + (
            "" if result.returncode == 0 else ": " + (result.stdout + result.stderr).strip()))


def kubernetes(switchboard):
    base = os.path.join(ROOT, "ops/k8s")
    kustomization = yaml.safe_load(open(os.path.join(base, "kustomization.yaml")))
    listed = kustomization.get("resources", [])
    present = sorted(f for f in os.listdir(base) if f.endswith(".yaml") and f != "kustomization.yaml")
    check(sorted(listed) == present, "k8s: kustomization lists every manifest")
    documents = []
    for name in listed:
        try:
            documents += [d for d in yaml.safe_load_all(open(os.path.join(base, name))) if d]
        except yaml.YAMLError as error:
            check(False, f"k8s: {name} parses ({error})")
    # Secrets come from kustomize's secretGenerator over an env file the operator writes
    # (kept out of git); its example holds the keys, with placeholders.
    for generator in kustomization.get("secretGenerator", []):
        data = {}
        for env in generator.get("envs", []):
            example = os.path.join(base, env + ".example")
            if check(os.path.exists(example), f"k8s: {env} has an example ({env}.example)"):
                for line in open(example):
                    line = line.strip()
                    if line and not line.startswith("#") and "=" in line:
                        key, value = line.split("=", 1)
                        data[key] = value
            ignored = run(["git", "-C", ROOT, "check-ignore", "-q", os.path.join("ops/k8s", env)])
            check(ignored.returncode == 0, f"k8s: ops/k8s/{env} (real secrets) is ignored by git")
        documents.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": generator["name"]}, "stringData": data})
    check(not any(tag.get("newTag") in (None, "latest") for tag in kustomization.get("images", [])), "k8s: images are pinned to a version, not latest")
    for document in documents:
        check(all(k in document for k in ("apiVersion", "kind", "metadata")), f"k8s: {document.get('kind')} {document.get('metadata', {}).get('name')} is a resource")
    by_kind = {}
    for document in documents:
        by_kind.setdefault(document["kind"], {})[document["metadata"]["name"]] = document
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap", "Secret"):
        check(kind in by_kind, f"k8s: has a {kind}")
    node = by_kind.get("Deployment", {}).get("switchboard-node")
    if not check(node is not None, "k8s: Deployment switchboard-node"):
        return
    pod = node["spec"]["template"]
    labels = pod["metadata"]["labels"]
    container = pod["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    check(ports.get("websocket") == NODE_PORT and ports.get("gateway-api") == API_PORT and ports.get("admin") == ADMIN_PORT,
          "k8s: node container ports are the node's 8080, 8081 and admin 8082")

    def port_of(value):
        return ports.get(value, value)

    readiness = container.get("readinessProbe", {}).get("httpGet", {})
    liveness = container.get("livenessProbe", {}).get("httpGet", {})
    check(readiness.get("path") == "/readyz" and port_of(readiness.get("port")) == ADMIN_PORT, "k8s: readiness probe is /readyz on the admin port")
    check(liveness.get("path") == "/healthz" and port_of(liveness.get("port")) == ADMIN_PORT, "k8s: liveness probe is /healthz on the admin port")
    check(all(probe.get("scheme", "HTTP") == "HTTP" for probe in (readiness, liveness)),
          "k8s: probes speak plain HTTP (the admin port has no TLS, whatever the client port does)")
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    check(bool(pre_stop), "k8s: node has a preStop hook")
    pause = int(pre_stop[1]) if len(pre_stop) == 2 and pre_stop[0] == "sleep" else 0
    config = {}
    for source in container.get("envFrom", []):
        name = source.get("configMapRef", {}).get("name")
        if check(name in by_kind.get("ConfigMap", {}), f"k8s: config map {name} exists"):
            config.update(by_kind["ConfigMap"][name]["data"])
    check(config.get("SWITCHBOARD_ADMIN_PORT") == str(ADMIN_PORT), "k8s: nodes serve /metrics on the admin port, not the public one")
    mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
    volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        check(mount["name"] in volumes, f"k8s: node mounts volume {mount['name']}, which the pod defines")
    tls_mount = next((m for m in container.get("volumeMounts", []) if "tls" in m["name"]), None)
    check(tls_mount is not None and tls_mount.get("readOnly") and volumes.get(tls_mount["name"], {}).get("secret", {}).get("secretName"),
          "k8s: the TLS Secret is mounted read-only into the node")
    config_text = open(os.path.join(base, "configmap.yaml")).read()
    tls_paths = re.findall(r"SWITCHBOARD_\w*_FILE:\s*(\S+)", config_text)
    check(bool(tls_paths) and all(any(path.startswith(m.rstrip("/") + "/") for m in mounts) for path in tls_paths),
          "k8s: every TLS file the config map names (commented or not) is under a mounted path")
    policies = by_kind.get("NetworkPolicy", {})

    def admitted(target, port):
        # The pod selectors allowed to reach `port` of pods labelled `target`.
        froms = []
        for policy in policies.values():
            if policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") != target:
                continue
            for rule in policy["spec"].get("ingress", []):
                if port in [p.get("port") for p in rule.get("ports", [])] or not rule.get("ports"):
                    froms.append([f.get("podSelector", {}).get("matchLabels") for f in rule.get("from", [])] or ["anyone"])
        return froms

    check(admitted("redis", "redis") == [[{"app.kubernetes.io/name": "switchboard-node"}]], "k8s: a NetworkPolicy lets only nodes reach Redis")
    for port in ("location", "chat", "notification"):
        check(admitted("switchboard-backends", port) == [[{"app.kubernetes.io/name": "switchboard-node"}]],
              f"k8s: a NetworkPolicy lets only nodes reach the backends' {port} port")
    check(admitted("switchboard-node", "gateway-api") == [[{"switchboard.io/gateway-client": "true"}]],
          "k8s: a NetworkPolicy lets only gateway clients reach the Gateway API")
    backends_pod = by_kind.get("Deployment", {}).get("switchboard-backends", {}).get("spec", {}).get("template", {})
    check(backends_pod.get("metadata", {}).get("labels", {}).get("switchboard.io/gateway-client") == "true",
          "k8s: the backends' pods carry the gateway-client label")
    check(admitted("switchboard-node", "websocket") == [["anyone"]], "k8s: the WebSocket port is open to clients")
    check(all(f != ["anyone"] for f in admitted("switchboard-node", "admin")), "k8s: the admin port is not open to everyone")
    drain = int(config.get("SWITCHBOARD_DRAIN_WINDOW", 10))
    grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
    check(grace > pause + drain, f"k8s: grace period {grace} s is longer than preStop {pause} s + drain window {drain} s")
    namespace = next(iter(by_kind.get("Namespace", {}).values()), {})
    check(namespace.get("metadata", {}).get("labels", {}).get("pod-security.kubernetes.io/enforce") == "restricted",
          "k8s: the namespace enforces the restricted Pod Security Standard")
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in by_kind.get("HorizontalPodAutoscaler", {}).values()}
    secrets = by_kind.get("Secret", {})
    for deployment in by_kind.get("Deployment", {}).values():
        name = deployment["metadata"]["name"]
        check(name not in scaled or "replicas" not in deployment["spec"], f"k8s: {name} leaves its replica count to the HPA")
        pod_spec = deployment["spec"]["template"]["spec"]
        pod_security = pod_spec.get("securityContext", {})
        check(pod_security.get("runAsNonRoot") is True and pod_security.get("seccompProfile", {}).get("type") == "RuntimeDefault",
              f"k8s: {name} runs as non-root with the runtime's seccomp profile")
        for c in pod_spec["containers"]:
            context = c.get("securityContext", {})
            check(context.get("allowPrivilegeEscalation") is False and context.get("capabilities", {}).get("drop") == ["ALL"],
                  f"k8s: {name}/{c['name']} cannot escalate privileges and drops every capability")
        for volume in pod_spec.get("volumes", []):
            secret_volume = volume.get("secret")
            if secret_volume and not secret_volume.get("optional"):
                secret = secrets.get(secret_volume["secretName"], {})
                keys = [item["key"] for item in secret_volume.get("items", [])]
                check(bool(secret) and all(k in secret.get("stringData", {}) or k in secret.get("data", {}) for k in keys),
                      f"k8s: {name} mounts secret {secret_volume['secretName']} {keys}, which exists")
    for deployment in by_kind.get("Deployment", {}).values():
        for c in deployment["spec"]["template"]["spec"]["containers"]:
            env_names = [e["name"] for e in c.get("env", [])]
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    secret = secrets.get(ref["name"], {})
                    check(ref["key"] in secret.get("stringData", {}) or ref["key"] in secret.get("data", {}),
                          f"k8s: {c['name']} reads secret {ref['name']}/{ref['key']}, which exists")
            if c["image"].split(":")[0] == "switchboard":
                from_maps = [k for s in c.get("envFrom", []) for k in by_kind["ConfigMap"].get(s.get("configMapRef", {}).get("name"), {}).get("data", {})]
                check_command(switchboard, f"k8s {deployment['metadata']['name']}", c.get("args", ["node"]), env_names + from_maps)
    check(any("SWITCHBOARD_JWT_SECRET" == e["name"] and "secretKeyRef" in e.get("valueFrom", {}) for e in container.get("env", [])),
          "k8s: the JWT secret comes from the Secret")
    good = {"jwt-secret": "check-deploy-jwt-secret-of-32-bytes-or-more", "push-secret": "check-deploy-push-secret"}
    for name, secret in secrets.items():
        for key, value in secret.get("stringData", {}).items():
            if key not in good:
                continue
            flags = {**good, key: value}
            try:
                refused = run([switchboard, "node", "--jwt-secret", flags["jwt-secret"], "--push-secret", flags["push-secret"],
                               "--port", "0", "--grpc-port", "0"], timeout=30)
                said = refused.stdout + refused.stderr
                ok = refused.returncode != 0 and "placeholder" in said
            except subprocess.TimeoutExpired:
                ok = False
            check(ok, f"k8s: the node refuses to start with secret {name}/{key} as shipped")
    for service in by_kind.get("Service", {}).values():
        selector = service["spec"].get("selector", {})
        targets = [d for d in by_kind["Deployment"].values()
                   if selector and all(d["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in selector.items())]
        if check(len(targets) == 1, f"k8s: Service {service['metadata']['name']} selects one Deployment"):
            named = {p.get("name") for c in targets[0]["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
            numbers = {p["containerPort"] for c in targets[0]["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
            for p in service["spec"]["ports"]:
                target = p.get("targetPort", p["port"])
                check(target in named or target in numbers, f"k8s: Service {service['metadata']['name']} port {p['port']} reaches a container port")
    services = by_kind.get("Service", {})
    check(any(s["spec"].get("selector") == {"app.kubernetes.io/name": "switchboard-node"} and any(port_of(p["targetPort"]) == NODE_PORT for p in s["spec"]["ports"]) for s in services.values()),
          "k8s: a Service for the WebSocket port")
    check(all(s["spec"].get("externalTrafficPolicy") == "Local" for s in services.values() if s["spec"].get("type") == "LoadBalancer"),
          "k8s: the LoadBalancer Service keeps clients' source addresses (externalTrafficPolicy: Local)")
    check(any(s["spec"].get("selector") == {"app.kubernetes.io/name": "switchboard-node"} and any(port_of(p["targetPort"]) == API_PORT for p in s["spec"]["ports"]) for s in services.values()),
          "k8s: a Service for the Gateway API")
    hpa = next(iter(by_kind.get("HorizontalPodAutoscaler", {}).values()), {})
    check(hpa.get("spec", {}).get("scaleTargetRef", {}).get("name") == "switchboard-node", "k8s: the HPA scales switchboard-node")
    pdb = next(iter(by_kind.get("PodDisruptionBudget", {}).values()), {})
    check(all(labels.get(k) == v for k, v in pdb.get("spec", {}).get("selector", {}).get("matchLabels", {"": None}).items()),
          "k8s: the PodDisruptionBudget selects the node pods")
    redis_pods = [c for d in by_kind["Deployment"].values() for c in d["spec"]["template"]["spec"]["containers"] if c["name"] == "redis"]
    check(len(redis_pods) == 1 and capped(redis_pods[0].get("args", [])), "k8s: redis has a maxmemory with noeviction")
    redis_url = config.get("SWITCHBOARD_REDIS", "")
    host = re.sub(r"^redis://([^:/]+).*", r"\1", redis_url)
    check(host in services or "." in host, f"k8s: SWITCHBOARD_REDIS ({redis_url}) is the redis Service or an external host")
    for key in ("SWITCHBOARD_LOCATION_BACKEND", "SWITCHBOARD_CHAT_BACKEND", "SWITCHBOARD_NOTIFICATION_BACKEND"):
        name, _, port = config.get(key, ":").partition(":")
        check(name in services and int(port or 0) in [p["port"] for p in services[name]["spec"]["ports"]], f"k8s: {key} is a Service port")
    images = {c["image"] for d in by_kind["Deployment"].values() for c in d["spec"]["template"]["spec"]["containers"]}
    check("switchboard" in images and any(i["name"] == "switchboard" for i in kustomization.get("images", [])), "k8s: the image is the one ops/Dockerfile builds (set by kustomize)")
    annotations = pod["metadata"].get("annotations", {})
    check(annotations.get("prometheus.io/port") == str(ADMIN_PORT) and annotations.get("prometheus.io/path") == "/metrics", "k8s: pods are annotated for Prometheus on the admin port")


def observability(metrics_file):
    config = yaml.safe_load(open(os.path.join(ROOT, "ops/prometheus.yml")))
    jobs = config.get("scrape_configs", [])
    check(any(j.get("metrics_path", "/metrics") == "/metrics" and any(
        sd.get("names") == ["node"] and sd.get("port") == ADMIN_PORT for sd in j.get("dns_sd_configs", [])) for j in jobs),
        "prometheus: scrapes every `node` replica's /metrics on the admin port")
    import json
    dashboard = json.load(open(os.path.join(ROOT, "ops/grafana/dashboards/switchboard.json")))
    expressions = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = set(re.findall(r"\bswitchboard_[a-z_]+", " ".join(expressions)))
    check(len(used) >= 10, f"grafana: the dashboard charts {len(used)} node metrics")
    if metrics_file:
        exported = set(re.findall(r"^(switchboard_[a-z_]+)", open(metrics_file).read(), re.M))
        for name in sorted(used):
            check(name in exported, f"grafana: {name} is a metric the node exports")
        for name in sorted(exported - used):
            check(False, f"grafana: the node's {name} is on the dashboard")
    provisioning = yaml.safe_load(open(os.path.join(ROOT, "ops/grafana/provisioning/datasources/prometheus.yml")))
    uids = {d.get("uid") for d in provisioning.get("datasources", [])}
    check(all(p["datasource"]["uid"] in uids for p in dashboard["panels"]), "grafana: panels use the provisioned Prometheus data source")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switchboard", required=True, help="the switchboard binary")
    parser.add_argument("--compose", required=True, help="docker-compose 1.29 (PyPI)")
    parser.add_argument("--metrics", help="a node's /metrics text, to check the dashboard against")
    arguments = parser.parse_args()
    docker_text = dockerfile(arguments.switchboard)
    compose(arguments.switchboard, arguments.compose, docker_text)
    haproxy()
    kubernetes(arguments.switchboard)
    observability(arguments.metrics)
    print(f"{len(failures)} failed" if failures else "all deployment checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
