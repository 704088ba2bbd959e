"""gazesite build without a browser: inputs, escaping, determinism, atomic output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gazesite.errors import GazesiteError
from gazesite.paths import default_model_dir
from gazesite.site.opencv_js import read_manifest
from gazesite.site.probe import framing_verdict
from gazesite.site.vendor import gather_vendor, subresource_integrity
from tests.helpers import assert_one_line_error, env_with_cache, folder_digest, gazesite, run_build
from tests.helpers.html import parse

TARGET = "https://example.org/page?x=1"


@pytest.fixture(scope="module")
def cache_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return env_with_cache(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, cache_env: dict[str, str]) -> Path:
    out = tmp_path_factory.mktemp("built") / "dist"
    result = run_build(cache_env, out, "--target", TARGET)
    assert result.returncode == 0, result.stderr
    return out


def test_site_layout(site: Path) -> None:
    files = set(folder_digest(site))
    assert {"index.html", "build.json", "model/model.json", "cascade/haarcascade_frontalface_default.xml", "app/main.js"} <= files
    vendor = {f for f in files if f.startswith("vendor/")}
    assert vendor == {
        "vendor/tf-4.22.0.es2017.min.js",
        "vendor/tf-backend-wasm-4.22.0.es2017.min.js",
        "vendor/tfjs-backend-wasm-4.22.0.wasm",
        "vendor/tfjs-backend-wasm-simd-4.22.0.wasm",
        f"vendor/{read_manifest()['artefact']['file']}",  # the lean OpenCV.js, the default
        "vendor/heatmap-2.0.5.min.js",
        "vendor/stats-0.17.0.min.js",
    }


def test_every_script_and_stylesheet_is_local_and_pinned_by_integrity(site: Path) -> None:
    tags = parse(site / "index.html").tags
    scripts = [attrs for tag, attrs in tags if tag == "script" and attrs.get("src")]
    assert len(scripts) >= 6
    links = [attrs for tag, attrs in tags if tag == "link" and attrs.get("rel") in ("stylesheet", "modulepreload")]
    preloaded = {a["href"] for a in links if a["rel"] == "modulepreload"}
    # Every module main.js may import is pinned by integrity too.
    assert preloaded == {f"app/{p.relative_to(site / 'app').as_posix()}" for p in (site / "app").rglob("*.js")} - {"app/main.js"}
    for attrs in scripts + links:
        url = attrs.get("src") or attrs.get("href")
        assert url and "//" not in url and not url.startswith("/"), url  # relative: works under any path
        assert attrs["integrity"] == subresource_integrity((site / url).read_bytes()), url


def test_csp_allows_own_origin_and_frames_only_the_target(site: Path) -> None:
    tags = parse(site / "index.html").tags
    (csp,) = [a["content"] for t, a in tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp is not None
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";")}
    assert directives["default-src"] == ["'none'"]
    assert directives["frame-src"] == ["https://example.org"]
    assert directives["connect-src"] == ["'self'", "data:"]
    assert all(not s.startswith("http") for s in directives["script-src"])
    (iframe,) = [a for t, a in tags if t == "iframe"]
    assert iframe["src"] == TARGET


def test_page_settings_carry_the_pipeline_constants(site: Path) -> None:
    from gazesite.track.pipeline import pipeline_constants

    config = json.loads(parse(site / "index.html").script_texts[0])
    assert config["pipeline"] == pipeline_constants()
    assert config["target"] == TARGET and config["backend"] == "auto" and config["smoothing"] == 5
    assert config["model"]["quantization"] == "uint8"
    for path in config["wasmPaths"].values():
        assert (site / path).is_file()


def test_two_builds_are_byte_identical(site: Path, tmp_path: Path, cache_env: dict[str, str]) -> None:
    result = run_build(cache_env, tmp_path / "again", "--target", TARGET)
    assert result.returncode == 0, result.stderr
    assert folder_digest(tmp_path / "again") == folder_digest(site)


def test_cached_build_does_not_import_tensorflow(site: Path, tmp_path: Path, cache_env: dict[str, str]) -> None:
    code = (
        "import sys\nfrom gazesite.commands import cli\n"
        f"try:\n    cli(['build', '--no-probe', '--target', {TARGET!r}, '--out', {str(tmp_path / 'd')!r}])\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print('tensorflow' in sys.modules, 'tensorflowjs' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cache_env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["False", "False"]
    assert "reusing the cached conversion" in result.stderr


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("javascript:alert(1)", "absolute http:// or https:// URL"),
        ("data:text/html,<script>alert(1)</script>", "absolute http:// or https:// URL"),
        ("/relative/page", "absolute http:// or https:// URL"),
        ("example.com", "absolute http:// or https:// URL"),
        ("ftp://example.com/", "absolute http:// or https:// URL"),
        ("http://", "must name a host"),
        ("https://exa mple.com/", "spaces or control characters"),
        ("https://user:pw@example.com/", "user name or password"),
        ("https://example.com/\nSet-Cookie: x", "spaces or control characters"),
        ("", "absolute http(s) URL"),
        ("http://[::1]:8080/", "IPv6 address"),
        ("http://[2001:db8::1]/", "give a host name"),
        ("http://bücher-.example/", "not a valid internationalised domain name"),
        ("http://xn--a.example/", "not a valid internationalised domain name"),
        ("http://under_score.example/", "letters, digits, '-' and '.'"),
    ],
)
def test_bad_targets_are_rejected(target: str, problem: str, tmp_path: Path) -> None:
    result = gazesite("build", "--no-probe", "--target", target, "--out", tmp_path / "dist")
    assert_one_line_error(result, "--target", problem)
    assert not (tmp_path / "dist").exists()


def test_quote_and_script_laden_target_is_rendered_inert(tmp_path: Path, cache_env: dict[str, str]) -> None:
    nasty = "https://example.org/?q=\"'><script>alert(1)</script>&x=</script><img/src=x/onerror=alert(2)>"
    result = run_build(cache_env, tmp_path / "dist", "--target", nasty)
    assert result.returncode == 0, result.stderr
    page = tmp_path / "dist" / "index.html"
    text = page.read_text()
    assert "<script>alert" not in text and "<img" not in text and "</script><img" not in text
    collector = parse(page)
    assert [t for t, _ in collector.tags].count("img") == 0
    (iframe,) = [a for t, a in collector.tags if t == "iframe"]
    assert iframe["src"] == nasty  # the attribute holds exactly the URL, nothing escaped out of it
    config = json.loads(collector.script_texts[0])
    assert config["target"] == nasty


def test_failed_build_leaves_previous_dist_byte_identical(site: Path, tmp_path: Path, cache_env: dict[str, str]) -> None:
    out = tmp_path / "dist"
    shutil.copytree(site, out)
    before = folder_digest(out)
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "model.json").write_text('{"format": "layers-model", "weightsManifest": [{"paths": ["gone.bin"]}]}')
    result = run_build(cache_env, out, "--target", TARGET, "--model", str(broken))
    assert_one_line_error(result, "gone.bin", "missing")
    assert folder_digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken-model", "dist"]  # no staging folder left


def test_missing_vendored_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(GazesiteError, match="make setup"):
        gather_vendor(tmp_path / "node_modules")


def test_builds_from_a_tfjs_model_directory(site: Path, tmp_path: Path, cache_env: dict[str, str]) -> None:
    result = run_build(cache_env, tmp_path / "dist", "--target", TARGET, "--model", str(site / "model"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dist" / "model" / "model.json").read_bytes() == (site / "model" / "model.json").read_bytes()


@pytest.mark.parametrize(
    ("xfo", "csp", "frameable"),
    [
        (None, None, True),
        ("DENY", None, False),
        ("sameorigin", None, False),
        (None, "default-src 'self'; frame-ancestors 'none'", False),
        (None, "frame-ancestors https://a.example", False),
        (None, "frame-ancestors *", True),
        (None, "default-src 'self'", True),
    ],
)
def test_framing_verdict(xfo: str | None, csp: str | None, frameable: bool) -> None:
    assert framing_verdict(xfo, csp).frameable is frameable


@pytest.mark.parametrize("points", ["4", "26"])
def test_calibration_points_out_of_range(points: str, tmp_path: Path) -> None:
    result = gazesite("build", "--no-probe", "--target", TARGET, "--calibration-points", points, "--out", tmp_path / "dist")
    assert_one_line_error(result, f"--calibration-points {points}", "expected 5 to 25 points")
    assert not (tmp_path / "dist").exists()


def test_serve_needs_a_built_site(tmp_path: Path) -> None:
    assert_one_line_error(gazesite("serve", tmp_path), "has no index.html", "gazesite build")


def test_default_model_is_shipped() -> None:
    assert (default_model_dir() / "model.h5").is_file()


def nested(depth: int) -> str:
    """A JSON array nested ``depth`` levels deep."""
    return "[" * depth + "]" * depth


BAD_MODEL_JSON = {
    "invalid": ("{not json", "is not valid JSON"),
    "list": ("[1, 2, 3]", "is not a JSON object"),
    "deep": (nested(100_000), "nested deeper than 100 levels"),
    "deep-inside": ('{"format": "layers-model", "modelTopology": ' + nested(500) + "}", "nested deeper than 100 levels"),
    "huge": (" " * (16 * 1024 * 1024) + "{}", "larger than 16 MiB"),
}


def model_json_dir(tmp_path: Path, text: str) -> Path:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.json").write_text(text)
    return model


@pytest.mark.parametrize("command", ["inspect", "build"])
@pytest.mark.parametrize("case", BAD_MODEL_JSON, ids=list(BAD_MODEL_JSON))
def test_hostile_model_json_is_one_line(case: str, command: str, tmp_path: Path) -> None:
    text, message = BAD_MODEL_JSON[case]
    model = model_json_dir(tmp_path, text)
    args = (
        ("inspect", model)
        if command == "inspect"
        else ("build", "--no-probe", "--target", TARGET, "--model", model, "--out", tmp_path / "dist")
    )
    assert_one_line_error(gazesite(*args), str(model), message)
    assert not (tmp_path / "dist").exists()


def test_model_json_of_the_wrong_shape_is_not_buildable(tmp_path: Path) -> None:
    model = model_json_dir(tmp_path, '{"format": "layers-model", "weightsManifest": {"paths": 1}, "userDefinedMetadata": []}')
    result = gazesite("inspect", model)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "buildable:   no: --model" in result.stdout and "not a TF.js layers model" in result.stdout
    result = gazesite("build", "--no-probe", "--target", TARGET, "--model", model, "--out", tmp_path / "dist")
    assert_one_line_error(result, str(model), "not a TF.js layers model")


def tfjs_model_copy(site: Path, folder: Path) -> Path:
    """A TF.js model folder copied from a built site's model/."""
    model = folder / "tfjs"
    shutil.copytree(site / "model", model)
    return model


def listed_weights(model: Path) -> set[str]:
    return {p for group in json.loads((model / "model.json").read_text())["weightsManifest"] for p in group["paths"]}


def test_tfjs_build_publishes_only_the_weight_files_model_json_lists(site: Path, tmp_path: Path, cache_env: dict[str, str]) -> None:
    model = tfjs_model_copy(site, tmp_path)
    (tmp_path / "secret.txt").write_text("private key")
    (model / "leak.bin").symlink_to(tmp_path / "secret.txt")
    (model / "draft.bin").write_bytes(b"not listed")
    result = run_build(cache_env, tmp_path / "dist", "--target", TARGET, "--model", str(model))
    assert result.returncode == 0, result.stderr
    assert {p.name for p in (tmp_path / "dist" / "model").iterdir()} == listed_weights(model) | {"model.json"}
    assert set(json.loads((tmp_path / "dist" / "build.json").read_text())["files"]) >= {f"model/{p}" for p in listed_weights(model)}


ESCAPING_PATHS = {
    "parent": "../secret.bin",
    "absolute": "{tmp}/secret.bin",
    "inner-parent": "sub/../../secret.bin",
    "link-out": "link.bin",
    "folder-link-out": "outside/secret.bin",
    "not-a-string": 7,
}


@pytest.mark.parametrize("case", ESCAPING_PATHS, ids=list(ESCAPING_PATHS))
def test_tfjs_weight_paths_that_leave_the_folder_are_refused_by_build_and_inspect(
    case: str, site: Path, tmp_path: Path, cache_env: dict[str, str]
) -> None:
    model = tfjs_model_copy(site, tmp_path)
    (tmp_path / "secret.bin").write_bytes(b"private key")
    (model / "sub").mkdir()
    (model / "link.bin").symlink_to(tmp_path / "secret.bin")
    (model / "outside").symlink_to(tmp_path)
    path = ESCAPING_PATHS[case]
    path = path.format(tmp=tmp_path) if isinstance(path, str) else path
    model_json = json.loads((model / "model.json").read_text())
    model_json["weightsManifest"][0]["paths"] = [path]
    (model / "model.json").write_text(json.dumps(model_json))

    build_result = run_build(cache_env, tmp_path / "dist", "--target", TARGET, "--model", str(model))
    assert_one_line_error(build_result, str(model), "model.json", "inside the model folder")
    assert not (tmp_path / "dist").exists()
    inspect_result = gazesite("inspect", model)
    assert inspect_result.returncode == 1 and "buildable:   no:" in inspect_result.stdout
    reason = build_result.stderr.strip().removeprefix("Error: ")
    assert reason in inspect_result.stdout  # build and inspect give the same verdict, word for word


def test_a_target_that_breaks_the_probe_still_builds_with_a_warning(tmp_path: Path, cache_env: dict[str, str], site: Path) -> None:
    from tests.helpers import servers

    server = servers.RawServer(servers.bad_status_line)
    try:
        cmd = [sys.executable, "-m", "gazesite", "build", "--target", server.url, "--out", str(tmp_path / "dist")]
        result = subprocess.run(cmd, capture_output=True, text=True, env=cache_env, timeout=600)
    finally:
        server.close()
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "WARNING could not" in result.stderr
    assert json.loads((tmp_path / "dist" / "build.json").read_text())["frameable"] is None


def csp_directives(page: Path) -> dict[str, list[str]]:
    (csp,) = [a["content"] for t, a in parse(page).tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp is not None
    return {d.split()[0]: d.split()[1:] for d in csp.split(";")}


def test_a_redirecting_target_is_framed_from_every_origin_on_its_way(tmp_path: Path, cache_env: dict[str, str], site: Path) -> None:
    from tests.helpers import servers

    server = servers.RedirectServer()
    try:
        cmd = [sys.executable, "-m", "gazesite", "build", "--target", server.url("/start"), "--out", str(tmp_path / "dist")]
        result = subprocess.run(cmd, capture_output=True, text=True, env=cache_env, timeout=600)
    finally:
        server.close()
    assert result.returncode == 0, result.stderr
    final = f"http://localhost:{server.port}/final"
    assert f"redirects to {final}" in result.stderr
    assert csp_directives(tmp_path / "dist" / "index.html")["frame-src"] == [
        f"http://127.0.0.1:{server.port}",
        f"http://localhost:{server.port}",
    ]
    manifest = json.loads((tmp_path / "dist" / "build.json").read_text())
    assert manifest["redirects"] == [final] and manifest["final_url"] == final and manifest["frameable"] is True


def test_an_idn_target_is_punycoded_everywhere(tmp_path: Path, cache_env: dict[str, str], site: Path) -> None:
    result = run_build(cache_env, tmp_path / "dist", "--target", "http://Bücher.example:8080/seite?q=ä")
    assert result.returncode == 0, result.stderr
    page = tmp_path / "dist" / "index.html"
    punycoded = "http://xn--bcher-kva.example:8080/seite?q=ä"
    assert csp_directives(page)["frame-src"] == ["http://xn--bcher-kva.example:8080"]
    (iframe,) = [a for t, a in parse(page).tags if t == "iframe"]
    assert iframe["src"] == punycoded
    config = json.loads(parse(page).script_texts[0])
    assert config["target"] == punycoded and config["targetOrigin"] == "http://xn--bcher-kva.example:8080"
    assert json.loads((tmp_path / "dist" / "build.json").read_text())["target"] == punycoded
    assert "bücher" not in page.read_text().lower()


def test_a_tfjs_model_larger_than_the_limit_is_refused(site: Path, tmp_path: Path, cache_env: dict[str, str]) -> None:
    from gazesite.bounded import MAX_MODEL_BYTES

    model = tfjs_model_copy(site, tmp_path)
    with open(model / sorted(listed_weights(model))[0], "r+b") as shard:
        shard.truncate(MAX_MODEL_BYTES + 1)  # sparse: no disk is used, but build would read it whole
    result = run_build(cache_env, tmp_path / "dist", "--target", TARGET, "--model", str(model))
    assert_one_line_error(result, str(model), "larger than 512 MiB")
    assert not (tmp_path / "dist").exists()
