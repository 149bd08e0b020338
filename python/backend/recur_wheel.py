"""The PEP 517 build backend of `pip install .` (pyproject.toml): it builds the package's
extension with CMake for the interpreter that runs pip and packs python/recur/ and the extension
into a wheel. It needs nothing from the package index (the build requires no package), so
`pip install .` works offline, with or without build isolation.

The build directory: build/ when it is already configured for this interpreter (a checkout that
ran scripts/build.sh: only the extension is brought up to date), else build/wheel-<tag>/, or the
`build-dir` config setting (pip install --config-settings build-dir=DIR .).
"""
import base64
import hashlib
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2]


def _version():
    """The one version: CMakeLists.txt's project() line."""
    text = (SOURCE / "CMakeLists.txt").read_text()
    return re.search(r"project\(recur VERSION ([0-9.]+)", text)[1]


def _tag():
    impl = f"cp{sys.version_info.major}{sys.version_info.minor}"
    return impl, impl, sysconfig.get_platform().replace("-", "_").replace(".", "_")


def _metadata():
    project = tomllib.loads((SOURCE / "pyproject.toml").read_text())["project"]
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {_version()}",
        f"Summary: {project['description']}",
        f"License: {project['license']['text']}",
        f"Requires-Python: {project['requires-python']}",
    ]
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    for extra, deps in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {d}; extra == "{extra}"' for d in deps]
    return "\n".join(lines) + "\n\n" + (SOURCE / "README.md").read_text().split("\n## ")[0] + "\n"


def _cached_python(build_dir):
    cache = build_dir / "CMakeCache.txt"
    if not cache.exists():
        return None
    m = re.search(r"^_?Python3_EXECUTABLE:\w+=(.*)$", cache.read_text(), re.MULTILINE)
    return m[1] if m else None


def _same_interpreter(path):
    """Whether `path` is this interpreter (or the one a venv of it was made from)."""
    base = getattr(sys, "_base_executable", sys.executable)
    return path is not None and os.path.realpath(path) in {os.path.realpath(base), os.path.realpath(sys.executable)}


def _build(config_settings):
    settings = config_settings or {}
    build_dir = Path(settings["build-dir"]) if settings.get("build-dir") else SOURCE / "build"
    if not settings.get("build-dir") and not _same_interpreter(_cached_python(build_dir)):
        build_dir = SOURCE / "build" / ("wheel-" + "-".join(_tag()))
    if not (build_dir / "CMakeCache.txt").exists():
        generator = ["-G", "Ninja"] if subprocess.run(["ninja", "--version"], capture_output=True).returncode == 0 else []
        print(f"recur: configuring {build_dir} for {sys.executable}", file=sys.stderr)
        subprocess.run(["cmake", "-S", str(SOURCE), "-B", str(build_dir), *generator, "-DCMAKE_BUILD_TYPE=Release",
                        "-DRECUR_BUILD_TESTS=OFF", f"-DPython3_EXECUTABLE={sys.executable}"], check=True,
                       stdout=sys.stderr)
    print(f"recur: building the extension in {build_dir}", file=sys.stderr)
    subprocess.run(["cmake", "--build", str(build_dir), "--target", "recur_python", "-j",
                    os.environ.get("RECUR_JOBS", "2")], check=True, stdout=sys.stderr)
    return build_dir / "python" / "recur"


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _dist_info_files():
    dist_info = f"recur-{_version()}.dist-info"
    wheel = "Wheel-Version: 1.0\nGenerator: recur_wheel\nRoot-Is-Purelib: false\nTag: {}-{}-{}\n".format(*_tag())
    return dist_info, {
        f"{dist_info}/METADATA": _metadata().encode(),
        f"{dist_info}/WHEEL": wheel.encode(),
        f"{dist_info}/licenses/LICENSE": (SOURCE / "LICENSE").read_bytes(),
        f"{dist_info}/top_level.txt": b"recur\n",
    }


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    dist_info, files = _dist_info_files()
    for name, data in files.items():
        path = Path(metadata_directory) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return dist_info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    built = _build(config_settings)
    files = {}
    for source in sorted((SOURCE / "python" / "recur").glob("*.py")):
        files[f"recur/{source.name}"] = source.read_bytes()
    extensions = sorted(built.glob("_core*" + sysconfig.get_config_var("EXT_SUFFIX")))
    if not extensions:
        raise RuntimeError(f"the build left no recur/_core extension in {built}")
    files[f"recur/{extensions[0].name}"] = extensions[0].read_bytes()
    dist_info, meta_files = _dist_info_files()
    files.update(meta_files)
    record = [_record_line(name, data) for name, data in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    name = "recur-{}-{}-{}-{}.whl".format(_version(), *_tag())
    with zipfile.ZipFile(Path(wheel_directory) / name, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files.items():
            wheel.writestr(path, data)
    return name
