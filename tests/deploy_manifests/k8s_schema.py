"""An offline schema check of Kubernetes objects against the API models that
Debian's python3-kubernetes package (the official Python client, generated
from the Kubernetes OpenAPI specification) ships.

`kubectl create --dry-run=client` cannot do this without a cluster: it asks
the API server for the kinds it knows before it parses a file. The client's
models know every field of every built-in kind of their Kubernetes version,
its type, which fields are required and which enum values are allowed, so:

  * every key must be a field of its type (a misspelt or misplaced field is
    an error, where the API server would drop or reject it),
  * every value must have the field's type (str, int, bool, int-or-string,
    list, map, nested object),
  * the models' own setters then run (required fields, enum values).

Fields newer than the packaged models' Kubernetes version are listed in
NEWER_FIELDS with their types and the version that added them.
"""

import inspect
import os
import re
import sys

try:
    from kubernetes import client as k8s_client
    from kubernetes.client import models as k8s_models
except ImportError:  # Debian's package lives in the system interpreter
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

import yaml

# (model, JSON field) -> (type, Kubernetes version that added it). Types use
# the models' notation; a dict type is a nested object given field by field.
NEWER_FIELDS = {
    ("V1SecurityContext", "appArmorProfile"): (
        {"type": "str", "localhostProfile": "str"}, "1.30"),
    ("V1PodSecurityContext", "appArmorProfile"): (
        {"type": "str", "localhostProfile": "str"}, "1.30"),
    ("V1Probe", "grpc"): ({"port": "int", "service": "str"}, "1.24"),
}

_REQUIRED = re.compile(r"client_side_validation and (\w+) is None")


def model_class(obj):
    """The model class of a top-level object from apiVersion and kind
    (apps/v1 DaemonSet -> V1DaemonSet)."""
    version = obj.get("apiVersion", "").split("/")[-1]
    name = version[:1].upper() + version[1:] + obj.get("kind", "")
    cls = getattr(k8s_models, name, None)
    if cls is None:
        raise ValueError(f"unknown apiVersion/kind {obj.get('apiVersion')}/{obj.get('kind')}")
    return cls


def required_fields(cls):
    """JSON names of the fields whose setter refuses None."""
    out = []
    for attr, json_name in cls.attribute_map.items():
        prop = getattr(cls, attr, None)
        if isinstance(prop, property) and prop.fset is not None:
            if _REQUIRED.search(inspect.getsource(prop.fset)):
                out.append(json_name)
    return out


def _check(value, typ, path, errors):
    if isinstance(typ, dict):  # a NEWER_FIELDS object
        if not isinstance(value, dict):
            errors.append(f"{path}: expected an object")
            return
        for k, v in value.items():
            if k not in typ:
                errors.append(f"{path}.{k}: unknown field")
            else:
                _check(v, typ[k], f"{path}.{k}", errors)
        return
    if typ.startswith("list["):
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, v in enumerate(value):
            _check(v, typ[5:-1], f"{path}[{i}]", errors)
        return
    if typ.startswith("dict("):
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map, got {type(value).__name__}")
            return
        inner = typ[5:-1].split(", ", 1)[1]
        for k, v in value.items():
            _check(v, inner, f"{path}.{k}", errors)
        return
    if typ == "str":
        if not isinstance(value, str):
            errors.append(f"{path}: expected a string, got {value!r}")
    elif typ == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{path}: expected an integer, got {value!r}")
    elif typ == "bool":
        if not isinstance(value, bool):
            errors.append(f"{path}: expected a boolean, got {value!r}")
    elif typ == "object":  # IntOrString, Quantity, RawExtension
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            errors.append(f"{path}: expected an integer or a string, got {value!r}")
    elif typ == "datetime":
        if not isinstance(value, str):
            errors.append(f"{path}: expected a timestamp string")
    else:
        cls = getattr(k8s_models, typ, None)
        if cls is None:
            errors.append(f"{path}: no model {typ}")
            return
        _check_model(value, cls, path, errors)


def _check_model(value, cls, path, errors):
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object ({cls.__name__}), got {value!r}")
        return
    by_json = {j: a for a, j in cls.attribute_map.items()}
    for key, v in value.items():
        attr = by_json.get(key)
        if attr is None:
            newer = NEWER_FIELDS.get((cls.__name__, key))
            if newer is None:
                errors.append(f"{path}.{key}: unknown field of {cls.__name__}")
            else:
                _check(v, newer[0], f"{path}.{key}", errors)
            continue
        if v is None:
            continue
        _check(v, cls.openapi_types[attr], f"{path}.{key}", errors)
    for req in required_fields(cls):
        if value.get(req) is None:
            errors.append(f"{path}.{req}: required field of {cls.__name__} is missing")


def validate(obj):
    """Errors (strings naming the path) of one top-level object; [] if valid."""
    try:
        cls = model_class(obj)
    except ValueError as e:
        return [str(e)]
    errors = []
    _check_model(obj, cls, obj.get("kind", "?"), errors)
    if not errors:
        # The models' setters: required fields and enum values.
        try:
            k8s_client.ApiClient()._ApiClient__deserialize(obj, cls.__name__)
        except (ValueError, TypeError) as e:
            errors.append(f"{obj.get('kind')}: {e}")
    return errors


def load_kustomization(directory):
    """(kustomization dict, [objects]) of a kustomization directory: every
    document of every file in `resources`, in order."""
    with open(os.path.join(directory, "kustomization.yaml")) as f:
        kust = yaml.safe_load(f)
    objects = []
    for res in kust.get("resources", []):
        with open(os.path.join(directory, res)) as f:
            for doc in yaml.safe_load_all(f):
                if doc is not None:
                    doc["__file__"] = res
                    objects.append(doc)
    return kust, objects


def strip(obj):
    """The object without the loader's bookkeeping keys."""
    return {k: v for k, v in obj.items() if not k.startswith("__")}
