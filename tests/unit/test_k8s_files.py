"""deploy/k8s/: every object a manifest uses is defined there, the images are
the Dockerfile's, and the page and the training Job are set up as
docs/deployment.md says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
IMAGE = "vaeapp"  # kustomization.yaml's image name, set to a registry there
TAGS = ("page", "train")  # the Dockerfile's two builds (its header)
HEALTH = "/_stcore/health"


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def objects() -> list[dict[str, Any]]:
    """Every object of the files kustomization.yaml lists."""
    found = []
    for name in kustomization()["resources"]:
        found += [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return found


def named(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects() if o["kind"] == kind}


def pod_specs() -> list[dict[str, Any]]:
    workloads = list(named("Deployment").values()) + list(named("Job").values())
    return [w["spec"]["template"]["spec"] for w in workloads]


def test_the_kustomization_lists_every_manifest_and_names_the_image_once() -> None:
    """kustomization.yaml lists every YAML file beside it and rewrites the
    image's name to the registry in one place."""
    listed = set(kustomization()["resources"])
    beside = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == beside
    assert [i["name"] for i in kustomization()["images"]] == [IMAGE]


def test_every_claim_service_and_config_used_is_defined() -> None:
    """Claims, config maps and secrets mounted, the ingress's service, the
    Job's subdomain service: each is an object of the manifests."""
    claims, maps = named("PersistentVolumeClaim"), named("ConfigMap")
    secrets = named("Secret")
    for spec in pod_specs():
        for volume in spec.get("volumes", []):
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims
            if "configMap" in volume:
                assert volume["configMap"]["name"] in maps
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets
        mounted = {v["name"] for v in spec.get("volumes", [])}
        for container in spec["containers"]:
            assert {m["name"] for m in container.get("volumeMounts", [])} <= mounted
        if "subdomain" in spec:
            assert spec["subdomain"] in named("Service")
    for ingress in named("Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                service = path["backend"]["service"]
                assert service["name"] in named("Service")
                target = named("Service")[service["name"]]
                ports = [p["name"] for p in target["spec"]["ports"]]
                assert service["port"]["name"] in ports


def test_the_models_claim_is_read_write_many_and_mounted_by_page_and_job() -> None:
    """vaeapp-models is ReadWriteMany and both the page and the Job mount it
    where the image's VAEAPP_HOME (/data/models) points."""
    claim = named("PersistentVolumeClaim")["vaeapp-models"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for spec in pod_specs():
        volumes = {v["name"]: v for v in spec["volumes"]}
        mounts = {
            m["mountPath"]: volumes[m["name"]]
            for m in spec["containers"][0]["volumeMounts"]
        }
        assert mounts["/data/models"]["persistentVolumeClaim"]["claimName"] == (
            "vaeapp-models"
        )


def test_every_container_runs_the_dockerfiles_image_with_resources() -> None:
    """Each container's image is vaeapp:page or vaeapp:train (the Dockerfile's
    builds), runs as the image's non-root user and requests CPU and memory
    with a memory limit."""
    for spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True
        for container in spec["containers"]:
            name, _, tag = container["image"].partition(":")
            assert name == IMAGE and tag in TAGS
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"])
            assert "memory" in resources["limits"]


def test_the_page_is_probed_on_the_health_endpoint_with_affinity() -> None:
    """The page's Deployment probes readiness and liveness on Streamlit's
    health endpoint, on the port the container exposes; the ingress pins a
    browser to a pod with a cookie."""
    (deployment,) = named("Deployment").values()
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    ports = {p["name"] for p in container["ports"]}
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        check = container[probe]["httpGet"]
        assert check["path"] == HEALTH and check["port"] in ports
    (ingress,) = named("Ingress").values()
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"


def test_the_job_names_its_model_per_run_and_opens_the_coordinator_port() -> None:
    """The training Job passes the process index and a model name made from
    variables its pods get from Kubernetes (none to edit for a rerun); its
    headless service, container and network policy cover the coordinator
    port and let the Job's pods reach each other."""
    (job,) = named("Job").values()
    container = job["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    assert args[0] == "train"
    variables = {e["name"] for e in container["env"]}
    for option in ("--name=", "--process-id="):
        (given,) = [a for a in args if a.startswith(option)]
        used = set(re.findall(r"\$\((\w+)\)", given))
        assert used and used <= variables, given
    port = next(a for a in args if a.startswith("--coordinator=")).rsplit(":", 1)[1]
    service = named("Service")[job["spec"]["template"]["spec"]["subdomain"]]
    assert int(port) in [p["port"] for p in service["spec"]["ports"]]
    assert int(port) in [p["containerPort"] for p in container["ports"]]
    policy = named("NetworkPolicy")[job["metadata"]["name"]]
    allowed = policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    assert allowed == {"job-name": job["metadata"]["name"]}
    assert "ports" not in policy["spec"]["ingress"][0]  # collectives pick theirs


@pytest.mark.parametrize("name", ["Deployment", "Job"])
def test_workloads_declare_the_images_user(name: str) -> None:
    """Page and Job run as uid 10001, the Dockerfile's ARG UID, and give the
    claims that group."""
    dockerfile = (K8S.parents[1] / "Dockerfile").read_text()
    uid = int(dockerfile.split("ARG UID=", 1)[1].split()[0])
    for workload in named(name).values():
        context = workload["spec"]["template"]["spec"]["securityContext"]
        assert context["runAsUser"] == context["fsGroup"] == uid
