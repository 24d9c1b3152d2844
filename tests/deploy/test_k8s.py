"""The Kubernetes manifests: the built-in kinds against the Kubernetes JSON schemas, offline.

kubernetes-validate ships the schemas of every Kubernetes release it supports inside its package, so
nothing is fetched. Strict mode rejects unknown fields. The two custom resources (ServiceMonitor,
ScaledObject) have no schema there: they are checked against hand-written subsets of their CRD
schemas (crd_schemas.py), and the HorizontalPodAutoscaler KEDA would create from the ScaledObject is
validated as a real autoscaling/v2 object. Then the references between the objects are checked, and
the tensor-parallel overlay is applied (its JSON patches) and validated like the base.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from kubernetes_validate import utils as kv

from server.settings import Settings
from tests.deploy import crd_schemas
from tests.deploy.dashboards import ROOT

K8S = ROOT / "deploy" / "k8s"
# The oldest release the manifests support (the preStop `sleep` action is on by default from 1.30),
# and the newest one kubernetes-validate knows.
VERSIONS = ["1.30.0", kv.latest_version()]
APP = {"app.kubernetes.io/name": "lfm2-gateway"}
EXTRA_ENV = {"HF_HOME"}  # read by huggingface_hub, not a gateway setting


def load_kustomization(directory: Path) -> dict[str, Any]:
    return dict(yaml.safe_load((directory / "kustomization.yaml").read_text()))


def base_resources() -> list[dict[str, Any]]:
    resources = []
    for name in load_kustomization(K8S)["resources"]:
        resources += [doc for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]
    return resources


def by_kind(resources: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [r for r in resources if r["kind"] == kind]
    return found


def validate(resource: dict[str, Any]) -> None:
    key = (resource["apiVersion"], resource["kind"])
    if key in crd_schemas.SCHEMAS:
        jsonschema.validate(resource, crd_schemas.SCHEMAS[key])
        return
    for version in VERSIONS:
        try:
            kv.validate(resource, version, strict=True)
        except kv.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            pytest.fail(f"{resource['kind']}/{resource['metadata']['name']} (Kubernetes {version}): {path}: "
                        f"{e.message}")


def test_kustomization_lists_every_manifest():
    listed = set(load_kustomization(K8S)["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


@pytest.mark.parametrize("resource", base_resources(), ids=lambda r: f"{r['kind']}/{r['metadata']['name']}")
def test_manifest_validates(resource):
    validate(resource)


def test_the_schema_check_is_strict():
    service = copy.deepcopy(by_kind(base_resources(), "Service"))
    service["spec"]["ports"][0]["targetPorts"] = "http"
    with pytest.raises(kv.ValidationError):
        kv.validate(service, VERSIONS[-1], strict=True)
    monitor = copy.deepcopy(by_kind(base_resources(), "ServiceMonitor"))
    monitor["spec"]["endpoints"][0]["intervall"] = "15s"
    with pytest.raises(jsonschema.ValidationError):
        validate(monitor)


def test_every_kind_is_covered():
    """Each manifest's kind has a Kubernetes schema or a CRD schema here, so none passes unchecked."""
    for resource in base_resources():
        key = (resource["apiVersion"], resource["kind"])
        if key not in crd_schemas.SCHEMAS:
            kv.validate(resource, VERSIONS[-1])  # raises SchemaNotFoundError for an unknown kind


def test_deployment_probes_and_pod():
    deployment = by_kind(base_resources(), "Deployment")
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8000}
    probes = {kind: container[kind]["httpGet"] for kind in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert probes["startupProbe"]["path"] == "/ready"
    assert probes["readinessProbe"]["path"] == "/ready"
    assert probes["livenessProbe"]["path"] == "/health"
    assert all(p["port"] in ports for p in probes.values())
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["spec"]["securityContext"]["runAsUser"] == 10001  # the images' USER
    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/cache/huggingface", "/dev/shm"} <= mounts


def test_configmap_holds_only_settings():
    config = by_kind(base_resources(), "ConfigMap")
    fields = {f"LFM2_{name.upper()}" for name in Settings.model_fields}
    assert set(config["data"]) - fields - EXTRA_ENV == set()
    deployment = by_kind(base_resources(), "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert {"configMapRef": {"name": config["metadata"]["name"]}} in container["envFrom"]


def test_service_pdb_and_monitor_select_the_pods():
    resources = base_resources()
    pod_labels = by_kind(resources, "Deployment")["spec"]["template"]["metadata"]["labels"]
    service = by_kind(resources, "Service")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    pdb = by_kind(resources, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    monitor = by_kind(resources, "ServiceMonitor")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    service_ports = {p["name"] for p in service["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in service_ports
        assert endpoint["path"] == "/metrics"


def test_autoscaler_scales_the_deployment_on_queue_depth():
    resources = base_resources()
    scaled = by_kind(resources, "ScaledObject")
    deployment = by_kind(resources, "Deployment")
    assert scaled["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "prometheus"
    metadata = trigger["metadata"]
    assert crd_schemas.PROMETHEUS_TRIGGER_REQUIRED <= set(metadata) <= crd_schemas.PROMETHEUS_TRIGGER_KEYS
    assert "vllm:num_requests_waiting" in metadata["query"]
    namespace = load_kustomization(K8S)["namespace"]
    assert f'namespace="{namespace}"' in metadata["query"]
    assert f'job="{by_kind(resources, "Service")["metadata"]["name"]}"' in metadata["query"]
    assert float(metadata["threshold"]) > 0
    assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]


def test_the_hpa_keda_creates_validates():
    """KEDA turns the ScaledObject into an autoscaling/v2 HPA on an External metric; build that HPA."""
    scaled = by_kind(base_resources(), "ScaledObject")
    spec = scaled["spec"]
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": f"keda-hpa-{scaled['metadata']['name']}"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec["scaleTargetRef"]["name"]},
            "minReplicas": spec["minReplicaCount"],
            "maxReplicas": spec["maxReplicaCount"],
            "behavior": spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"],
            "metrics": [{"type": "External", "external": {
                "metric": {"name": f"s{i}-prometheus"},
                "target": {"type": t.get("metricType", "AverageValue"), "averageValue": t["metadata"]["threshold"]},
            }} for i, t in enumerate(spec["triggers"])],
        },
    }
    validate(hpa)


def apply_json_patch(document: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 `replace` and `add` on object members: the operations the overlays use."""
    result = copy.deepcopy(document)
    for op in operations:
        assert op["op"] in ("replace", "add"), op
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].lstrip("/").split("/")]
        node: Any = result
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = op["value"]
        else:
            assert op["op"] == "add" or last in node, f"replace of a missing {op['path']}"
            node[last] = op["value"]
    return result


def overlay(name: str) -> list[dict[str, Any]]:
    directory = K8S / "overlays" / name
    kustomization = load_kustomization(directory)
    assert [(directory / r).resolve() for r in kustomization["resources"]] == [K8S.resolve()]
    resources = base_resources()
    for patch in kustomization["patches"]:
        target = patch["target"]
        matches = [i for i, r in enumerate(resources)
                   if r["kind"] == target["kind"] and r["metadata"]["name"] == target["name"]]
        assert len(matches) == 1, target
        resources[matches[0]] = apply_json_patch(resources[matches[0]], yaml.safe_load(patch["patch"]))
    return resources


def test_tensor_parallel_overlay():
    resources = overlay("tensor-parallel")
    for resource in resources:
        validate(resource)
    tensor_parallel = int(by_kind(resources, "ConfigMap")["data"]["LFM2_TENSOR_PARALLEL_SIZE"])
    (container,) = by_kind(resources, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert tensor_parallel > 1
    assert container["resources"]["limits"]["nvidia.com/gpu"] == tensor_parallel
    assert container["resources"]["requests"]["nvidia.com/gpu"] == tensor_parallel
