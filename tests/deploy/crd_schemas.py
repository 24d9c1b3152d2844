"""JSON Schemas for the two custom resources in deploy/k8s/, which kubernetes-validate has no schema for.

Each is the subset of the CRD's openAPIV3Schema that our manifests use, written from the published
CRDs (Prometheus Operator `monitoring.coreos.com/v1` ServiceMonitor; KEDA 2.x `keda.sh/v1alpha1`
ScaledObject), with `additionalProperties: false` so that a misspelt or misplaced field fails
instead of being silently ignored by the operator. Types and enums follow the CRDs: KEDA trigger
metadata values are strings, durations are Prometheus durations.
"""

from __future__ import annotations

from typing import Any

DURATION = {"type": "string", "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?"
                                         r"(([0-9]+)s)?(([0-9]+)ms)?)$"}
NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}
LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
METADATA = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": NAME, "namespace": NAME, "labels": LABELS, "annotations": LABELS},
    "additionalProperties": False,
}
LABEL_SELECTOR = {
    "type": "object",
    "properties": {
        "matchLabels": LABELS,
        "matchExpressions": {"type": "array", "items": {
            "type": "object", "required": ["key", "operator"],
            "properties": {"key": {"type": "string"}, "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                           "values": {"type": "array", "items": {"type": "string"}}},
            "additionalProperties": False}},
    },
    "additionalProperties": False,
}
INT32 = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


def _resource(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {"apiVersion": {"const": api_version}, "kind": {"const": kind}, "metadata": METADATA,
                       "spec": spec},
        "additionalProperties": False,
    }


SERVICE_MONITOR = _resource("monitoring.coreos.com/v1", "ServiceMonitor", {
    "type": "object",
    "required": ["selector", "endpoints"],
    "properties": {
        "selector": LABEL_SELECTOR,
        "namespaceSelector": {"type": "object", "properties": {
            "any": {"type": "boolean"}, "matchNames": {"type": "array", "items": {"type": "string"}}},
            "additionalProperties": False},
        "jobLabel": {"type": "string"},
        "endpoints": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "properties": {
                "port": {"type": "string"},
                "targetPort": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                "path": {"type": "string", "pattern": "^/"},
                "scheme": {"enum": ["http", "https", "HTTP", "HTTPS"]},
                "interval": DURATION,
                "scrapeTimeout": DURATION,
                "honorLabels": {"type": "boolean"},
            },
            "additionalProperties": False,
        }},
    },
    "additionalProperties": False,
})

SCALED_OBJECT = _resource("keda.sh/v1alpha1", "ScaledObject", {
    "type": "object",
    "required": ["scaleTargetRef", "triggers"],
    "properties": {
        "scaleTargetRef": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"}, "apiVersion": {"type": "string"}, "kind": {"type": "string"},
            "envSourceContainerName": {"type": "string"}}, "additionalProperties": False},
        "minReplicaCount": INT32,
        "maxReplicaCount": INT32,
        "idleReplicaCount": INT32,
        "pollingInterval": INT32,
        "cooldownPeriod": INT32,
        "initialCooldownPeriod": INT32,
        "fallback": {"type": "object", "required": ["failureThreshold", "replicas"], "properties": {
            "failureThreshold": INT32, "replicas": INT32}, "additionalProperties": False},
        "advanced": {"type": "object", "properties": {
            "restoreToOriginalReplicaCount": {"type": "boolean"},
            # The behavior itself is checked against Kubernetes's HPA schema (test_k8s.py).
            "horizontalPodAutoscalerConfig": {"type": "object", "properties": {
                "name": {"type": "string"}, "behavior": {"type": "object"}}, "additionalProperties": False},
        }, "additionalProperties": False},
        "triggers": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["type", "metadata"],
            "properties": {
                "type": {"type": "string"},
                "name": {"type": "string"},
                "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                "useCachedMetrics": {"type": "boolean"},
                "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                "authenticationRef": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string"}, "kind": {"enum": ["TriggerAuthentication",
                                                                  "ClusterTriggerAuthentication"]}},
                    "additionalProperties": False},
            },
            "additionalProperties": False,
        }},
    },
    "additionalProperties": False,
})

# Keys KEDA's prometheus scaler reads (keda/pkg/scalers/prometheus_scaler.go); serverAddress,
# query and threshold are required.
PROMETHEUS_TRIGGER_REQUIRED = {"serverAddress", "query", "threshold"}
PROMETHEUS_TRIGGER_KEYS = PROMETHEUS_TRIGGER_REQUIRED | {
    "activationThreshold", "namespace", "customHeaders", "ignoreNullValues", "queryParameters",
    "unsafeSsl", "timeout", "authModes", "awsRegion", "identityOwner"}

SCHEMAS = {("monitoring.coreos.com/v1", "ServiceMonitor"): SERVICE_MONITOR,
           ("keda.sh/v1alpha1", "ScaledObject"): SCALED_OBJECT}
