"""Reports of a policy test run: rule coverage for people, JUnit XML for CI systems."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from escalator.authoring.policytest import PolicyTestResult, show


def coverage_percent(coverage: dict[str, int]) -> float:
    if not coverage:
        return 100.0
    return 100.0 * sum(1 for n in coverage.values() if n > 0) / len(coverage)


def coverage_report(coverage: dict[str, int]) -> str:
    width = max((len(r) for r in coverage), default=4)
    lines = [f"{'rule':<{width}}  tests"]
    for rule_id in sorted(coverage):
        count = coverage[rule_id]
        lines.append(f"{rule_id:<{width}}  {count:>5}" + ("  NOT COVERED" if count == 0 else ""))
    covered = sum(1 for n in coverage.values() if n)
    lines.append(f"coverage: {covered}/{len(coverage)} rules fired in at least one test "
                 f"({coverage_percent(coverage):.1f}%)")
    return "\n".join(lines)


def junit_xml(results: list[PolicyTestResult]) -> bytes:
    """JUnit XML: one <testsuite> per test file, one <testcase> per policy test."""
    root = ET.Element("testsuites", name="escalator policy tests")
    by_file: dict[Path, list[PolicyTestResult]] = {}
    for result in results:
        by_file.setdefault(result.test.file, []).append(result)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for file, items in by_file.items():
        failures = sum(1 for r in items if r.status == "fail")
        errors = sum(1 for r in items if r.status == "error")
        suite = ET.SubElement(root, "testsuite", name=str(file), tests=str(len(items)),
                              failures=str(failures), errors=str(errors), skipped="0")
        totals["tests"] += len(items)
        totals["failures"] += failures
        totals["errors"] += errors
        for r in items:
            case = ET.SubElement(suite, "testcase", name=r.test.name, classname=file.stem,
                                 file=str(file), line=str(r.test.location.line or 0))
            if r.status == "fail":
                summary = "; ".join(f"{m.key}: expected {show(m.expected)}, got {show(m.actual)}" for m in r.mismatches)
                ET.SubElement(case, "failure", message=summary, type="PolicyTestFailure").text = r.diff()
            elif r.status == "error":
                ET.SubElement(case, "error", message=r.error or "", type="PolicyTestError").text = r.error
    for key, value in totals.items():
        root.set(key, str(value))
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml
