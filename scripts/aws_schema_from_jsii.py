#!/usr/bin/env python3
"""Converts the jsii manifest (package/.jsii) of @cdktn/provider-aws into fanin's compact
hashicorp/aws schema: which arguments and nested blocks the provider, every resource and every
data source accept, and which of them are required. Standard library only.

Usage: aws_schema_from_jsii.py JSII_FILE SOURCE OUT_FILE
  SOURCE    the npm package spec recorded in the output, e.g. @cdktn/provider-aws@25.7.0
  OUT_FILE  written whole, then renamed into place

Output:
  {"source": SOURCE, "provider_version": "6.66.0", "provider": <block>,
   "resources": {"aws_sqs_queue": <block>, ...}, "data_sources": {"aws_partition": <block>, ...}}
  <block> = {"arguments": {"<name>": {"required": bool}, ...},
             "blocks": {"<name>": <block>, ...}}
  A nested <block> also has "required": bool, and may have:
    "nested_attribute": true  the provider declares it as an attribute of object type (written
                              `name = {...}` or `name = [{...}]`), not as a block; the generator
                              types both as structs, only its doc comment tells them apart;
    "opaque": true            a block whose contents the manifest does not tell, its "arguments"
                              and "blocks" are empty: the generator cut the schema off there
                              (typed `any`: aws_wafv2_web_acl's rule.statement, for one), or its
                              types loop back to an enclosing block (aws_wafv2_web_acl_rule's
                              and_statement.statement). Its "required" is the manifest's,
                              which calls every cut-off block optional (aws_wafv2_web_acl's
                              rule.statement is required by the provider).

Where the names come from (cdktn generated the manifest from the provider's schema):
  - a resource's or data source's Terraform type name from its class's doc summary,
    "Represents a {@link https://registry.terraform.io/providers/hashicorp/aws/<v>/docs/
    resources/sqs_queue aws_sqs_queue}." (the static tfResourceType constant's value is not in
    the manifest);
  - an argument's or block's name from the registry link in its doc comment,
    "{@link https://.../docs/resources/sqs_queue#sqs_managed_sse_enabled SqsQueue#...}": cdktn
    renames properties that clash with its own members (selfAttribute is `self`, fetchUserData
    is `get_user_data`), and its camelCase loses where digits start (address_line_1); camelCase
    to snake_case is only a fallback for a property without a link, counted on stderr;
  - provider_version from those links' version segment (all of them must agree).
Meta-arguments (count, for_each, depends_on, provider, lifecycle, provisioner, connection) come
from cdktn's base interfaces (cdktn.TerraformMetaArguments) and are left out by not following
interfaces outside the package; the provider's `alias`, which cdktn declares on the provider
config itself, is left out by name.

Memory: json.load of the ~150 MB manifest holds it whole; an object_hook drops what the
conversion never reads (methods, source locations, readmes, class members) as it parses, which
keeps the peak resident size near 0.5 GB (about 0.75 GB without it).
"""
import json
import os
import re
import sys

PREFIX = "@cdktn/provider-aws."
RESOLVABLE = "cdktn.IResolvable"
KINDS = {"cdktn.TerraformResource": "resources", "cdktn.TerraformDataSource": "data_sources"}
CLASS_DOC = re.compile(
    r"^Represents a \{@link https://registry\.terraform\.io/providers/hashicorp/aws/"
    r"(?P<version>[^/\s]+)/docs(?:/(?P<kind>resources|data-sources)/(?P<path>[a-z0-9_]+))?"
    r" (?P<name>[a-z0-9_]+)\}\.$"
)
PROPERTY_LINK = re.compile(
    r"\{@link https://registry\.terraform\.io/providers/hashicorp/aws/(?P<version>[^/\s]+)/docs"
    r"(?:/(?:resources|data-sources|ephemeral-resources)/[a-z0-9_]+)?"
    r"#(?P<anchor>[a-z0-9_]+) \w+#(?P<name>[a-z0-9_]+)\}"
)
# Provider-block meta-argument that cdktn declares on AwsProviderConfig itself.
PROVIDER_META = {"alias"}


def prune(obj):
    """object_hook: drops the parts of the manifest the conversion never reads."""
    for key in ("methods", "locationInModule", "symbolId", "readme"):
        obj.pop(key, None)
    if obj.get("kind") == "class":
        obj.pop("properties", None)
    return obj


def snake(camel):
    return re.sub(r"([A-Z])", r"_\1", camel).lower()


class Converter:
    def __init__(self, types):
        self.types = types
        self.versions = set()
        self.fallbacks = []  # (struct fqn, property) named by camelCase conversion
        self.nested_attributes = []  # (struct fqn, property)
        self.opaque = []  # (struct fqn, property)

    def struct_of(self, ty):
        """The package struct fqn a property type is, or is a collection of; None otherwise."""
        if "fqn" in ty:
            fqn = ty["fqn"]
            if fqn.startswith(PREFIX):
                decl = self.types[fqn]
                if decl["kind"] != "interface" or not decl.get("datatype"):
                    raise ValueError(f"property typed by non-struct {fqn}")
                return fqn
            if fqn != RESOLVABLE:
                raise ValueError(f"property typed by foreign {fqn}")
            return None
        if "collection" in ty:
            return self.struct_of(ty["collection"]["elementtype"])
        if "union" in ty:
            found = {self.struct_of(t) for t in ty["union"]["types"]} - {None}
            if len(found) > 1:
                raise ValueError(f"union of several structs {sorted(found)}")
            return found.pop() if found else None
        if "primitive" in ty:
            return None
        raise ValueError(f"unknown type {ty!r}")

    def name_of(self, fqn, prop):
        text = "\n".join(v for v in prop.get("docs", {}).values() if isinstance(v, str))
        links = {(m["version"], m["anchor"], m["name"]) for m in PROPERTY_LINK.finditer(text)}
        names = {name for _, anchor, name in links if anchor == name}
        if len(names) > 1:
            raise ValueError(f"{fqn}.{prop['name']}: several registry names {sorted(names)}")
        self.versions.update(v for v, _, _ in links)
        if names:
            return names.pop()
        self.fallbacks.append((fqn, prop["name"]))
        return snake(prop["name"])

    def block(self, fqn, stack=()):
        decl = self.types[fqn]
        foreign = [i for i in decl.get("interfaces", []) if not i.startswith(PREFIX)]
        if set(foreign) - {"cdktn.TerraformMetaArguments"}:
            raise ValueError(f"{fqn}: unexpected base interfaces {foreign}")
        props = list(decl.get("properties", []))
        for base in decl.get("interfaces", []):  # none in 25.7.0; followed for safety
            if base.startswith(PREFIX):
                props += self.types[base].get("properties", [])
        out = {"arguments": {}, "blocks": {}}
        for prop in props:
            name = self.name_of(fqn, prop)
            if fqn == f"{PREFIX}provider.AwsProviderConfig" and name in PROVIDER_META:
                continue
            if name in out["arguments"] or name in out["blocks"]:
                raise ValueError(f"{fqn}: two properties named {name}")
            required = not prop.get("optional", False)
            summary = prop.get("docs", {}).get("summary", "")
            is_block_doc = summary == f"{name} block."
            nested = self.struct_of(prop["type"])
            if nested is not None and (nested in stack or nested == fqn):
                # cdktn's types loop here (aws_wafv2_web_acl_rule's statement inside
                # and_statement, or_statement, not_statement); the provider's own schema
                # stops at some depth the manifest does not tell.
                out["blocks"][name] = {"arguments": {}, "blocks": {}, "required": required, "opaque": True}
                self.opaque.append((fqn, prop["name"]))
            elif nested is not None:
                sub = self.block(nested, stack + (fqn,))
                sub["required"] = required
                if not is_block_doc:
                    sub["nested_attribute"] = True
                    self.nested_attributes.append((fqn, prop["name"]))
                out["blocks"][name] = sub
            elif is_block_doc and prop["type"] == {"primitive": "any"}:
                out["blocks"][name] = {"arguments": {}, "blocks": {}, "required": required, "opaque": True}
                self.opaque.append((fqn, prop["name"]))
            else:
                out["arguments"][name] = {"required": required}
        return out

    def config_of(self, decl):
        params = decl["initializer"]["parameters"]
        config = [p for p in params if p["name"] == "config"]
        if len(config) != 1:
            raise ValueError(f"{decl['fqn']}: no config parameter")
        return config[0]["type"]["fqn"]


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    jsii_file, source, out_file = argv[1:]
    with open(jsii_file, encoding="utf-8") as f:
        manifest = json.load(f, object_hook=prune)
    if manifest.get("schema") != "jsii/0.10.0" or "types" not in manifest:
        raise SystemExit(f"{jsii_file}: not a plain jsii/0.10.0 manifest (schema {manifest.get('schema')!r})")
    types = manifest.pop("types")
    del manifest
    conv = Converter(types)

    out = {"source": source, "provider_version": None, "provider": None, "resources": {}, "data_sources": {}}
    class_versions = set()
    for decl in types.values():
        base = decl.get("base")
        if decl["kind"] != "class" or base not in (*KINDS, "cdktn.TerraformProvider"):
            continue
        m = CLASS_DOC.match(decl.get("docs", {}).get("summary", ""))
        if not m:
            raise ValueError(f"{decl['fqn']}: no Terraform name in {decl.get('docs')!r}")
        class_versions.add(m["version"])
        block = conv.block(conv.config_of(decl))
        if base == "cdktn.TerraformProvider":
            if m["name"] != "aws" or m["kind"] or out["provider"] is not None:
                raise ValueError(f"{decl['fqn']}: unexpected provider class")
            out["provider"] = block
            continue
        kind = KINDS[base]
        expect = {"resources": "resources", "data_sources": "data-sources"}[kind]
        if m["kind"] != expect or m["name"] != f"aws_{m['path']}":
            raise ValueError(f"{decl['fqn']}: link {m['kind']}/{m['path']} does not match {m['name']}")
        if m["name"] in out[kind]:
            raise ValueError(f"{decl['fqn']}: second {kind} class for {m['name']}")
        out[kind][m["name"]] = block

    versions = class_versions | conv.versions
    if len(versions) != 1:
        raise ValueError(f"registry links name several provider versions: {sorted(versions)}")
    out["provider_version"] = versions.pop()
    if out["provider"] is None:
        raise ValueError("no provider class")
    out["resources"] = dict(sorted(out["resources"].items()))
    out["data_sources"] = dict(sorted(out["data_sources"].items()))

    tmp = out_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, out_file)

    print(
        f"aws_schema_from_jsii: hashicorp/aws {out['provider_version']}: "
        f"{len(out['resources'])} resources, {len(out['data_sources'])} data sources; "
        f"{len(conv.nested_attributes)} nested attributes, {len(conv.opaque)} opaque blocks; "
        f"{len(conv.fallbacks)} names by camelCase conversion",
        file=sys.stderr,
    )
    for fqn, prop in conv.fallbacks:
        print(f"aws_schema_from_jsii: no registry link, converted {fqn}.{prop}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
