"""Demo: start a real Redmine and the service, send a letter, show the case it became."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.redmine_server import start_redmine_server  # noqa: E402

STATE = Path(os.environ.get("SOP_DEMO_DIR", "/var/tmp/sop-connector-demo"))
TOKEN = "demo-intake-token-" + base64.b32encode(os.urandom(10)).decode().lower()
LETTER = {
    "nomor_surat": f"027/{int(time.time()) % 100000}/DINKES/2026",
    "tanggal_surat": time.strftime("%Y-%m-%d"),
    "opd": "DINKES",
    "perihal": "Permohonan Pembuatan Aplikasi Sistem Informasi Puskesmas",
    "nama_aplikasi": "SI Puskesmas",
    "deskripsi": "Aplikasi pencatatan kunjungan pasien di 26 puskesmas Kabupaten Sumbawa.",
    "kontak": {"nama": "dr. Siti Aminah", "jabatan": "Kepala Seksi Data dan Informasi",
               "email": "siti.aminah@dinkes.sumbawakab.go.id", "telepon": "0371-21234"},
    "lampiran": [{"nama_file": "surat-permohonan.pdf", "content_type": "application/pdf",
                  "isi_base64": base64.b64encode(b"%PDF-1.4\n% contoh surat\n").decode()}],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(redmine_url: str, port: int) -> Path:
    config = (ROOT / "config.example.toml").read_text()
    config = config.replace('url = "http://127.0.0.1:3000"', f'url = "{redmine_url}"')
    config = config.replace("port = 8080", f"port = {port}")
    config = config.replace('public_url = "http://127.0.0.1:8080"',
                            f'public_url = "http://127.0.0.1:{port}"')
    config = config.replace('url = "sqlite:///sop-connector.db"', 'url = "sqlite:///demo.db"')
    path = STATE / "config.toml"
    path.write_text(config)
    return path


def post(url: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(json.load(answer))


def get(url: str) -> dict[str, object]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(json.load(answer))


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"demo: {url} did not answer in {seconds} s")


def main() -> None:
    STATE.mkdir(parents=True, exist_ok=True)
    print("Menyiapkan Redmine (paket Debian, SQLite)...", flush=True)
    redmine = start_redmine_server(STATE / "redmine")
    port = free_port()
    config = write_config(redmine.url, port)
    env = dict(os.environ, SOP_REDMINE_API_KEY=redmine.admin_key, SOP_INTAKE_TOKEN=TOKEN)
    service = subprocess.Popen([str(ROOT / ".venv/bin/sop-connector"), "serve", "--config",
                                str(config)], env=env, stdout=subprocess.DEVNULL,
                               stderr=open(STATE / "service.log", "w"))  # noqa: SIM115
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/healthz")
        print(f"Layanan sop-connector berjalan di {base}", flush=True)
        answer = post(f"{base}/webhooks/intake", LETTER)
        print(f"Surat {LETTER['nomor_surat']} dari DINKES diterima: kasus {answer['case_id']}")
        case: dict[str, object] = {}
        for _ in range(120):
            case = get(str(answer["status_url"]))
            if case["status"] != "received":
                break
            time.sleep(0.5)
        print(f"Kasus dibuat di Redmine: {redmine.url}/issues/{case['redmine_issue_id']}")
        print("Langkah 1 selesai; langkah 2 (disposisi Kepala Dinas) aktif.")
        print(f"Masuk ke Redmine sebagai kadis / {redmine.passwords['kadis']} "
              f"(atau admin / lihat {STATE}/redmine).")
        print(f"Kesehatan layanan: {base}/healthz   API: {base}/openapi.json")
        print("Tekan Ctrl-C untuk berhenti.", flush=True)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.wait(1):
            pass
    finally:
        service.terminate()
        service.wait(timeout=10)
        redmine.destroy()


if __name__ == "__main__":
    main()
