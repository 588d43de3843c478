"""S3 over moto: tessera reads and writes s3:// URLs configured from the environment as the CLI is.

moto_server comes from the servers venv (.ci/requirements-servers.txt, made by CI suite 10) or from
$TESSERA_MOTO_SERVER. Without it the test is skipped on a developer's machine and fails under CI=true.
"""

import os
import pickle
import shutil
import socket
import subprocess
import time
import urllib.request

import numpy as np
import pytest

import tessera
from conftest import REPO


def moto_binary():
    for candidate in (os.environ.get("TESSERA_MOTO_SERVER"), REPO / ".venv-servers" / "bin" / "moto_server",
                      shutil.which("moto_server")):
        if candidate and os.path.exists(candidate):
            return str(candidate)
    return None


@pytest.fixture(scope="module")
def s3_bucket():
    binary = moto_binary()
    if binary is None:
        message = "moto_server not found (.venv-servers/bin/moto_server or $TESSERA_MOTO_SERVER)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(urllib.request.Request(f"{endpoint}/tessera-py", method="PUT"), timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("moto_server exited before it was ready")
                time.sleep(0.2)
        else:
            pytest.fail("moto_server not ready after 30 s")
        saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT", "AWS_ALLOW_HTTP", "AWS_ACCESS_KEY_ID",
                                                 "AWS_SECRET_ACCESS_KEY", "AWS_REGION")}
        os.environ.update(AWS_ENDPOINT=endpoint, AWS_ALLOW_HTTP="true", AWS_ACCESS_KEY_ID="testing",
                          AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
        yield "s3://tessera-py"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for k, v in locals().get("saved", {}).items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_s3_write_read_group_and_pickle(s3_bucket):
    url = f"{s3_bucket}/root"
    data = np.arange(30 * 20, dtype="<f8").reshape(30, 20)
    a = tessera.create(url, "g/x", shape=data.shape, chunks=(8, 8), dtype="<f8", attributes={"k": "v"})
    a[...] = data
    a[3:5, 2:30] = -1
    data[3:5, 2:30] = -1
    b = tessera.open(url, "g/x")
    np.testing.assert_array_equal(b[...], data)
    np.testing.assert_array_equal(b[::-3, 7], data[::-3, 7])
    assert b.attrs["k"] == "v" and b.nchunks_initialized == 12
    assert tessera.open_group(url).group_keys() == ["g"]
    c = pickle.loads(pickle.dumps(b))
    np.testing.assert_array_equal(c[5], data[5])
    with pytest.raises(tessera.NodeNotFound):
        tessera.open(url, "g/missing")
