"""A fake provincial licence platform on 127.0.0.1: GET /licences?type=&holder= answers
{"licences": [...]} for the holders it was given, as app/licences/sources.py HttpSource expects.

The test controls timing: in "slow" mode an answer is held until release() (or reset()), so the
client's timeout fires however busy the machine is, and no real sleep decides the outcome.
"""

import json
import threading

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


class LicencePlatform:
    def __init__(self):
        self.records: dict[tuple[str, str], list[dict]] = {}
        self.mode = "ok"  # ok, slow, error, garbage
        self.calls: list[dict] = []
        self._release = threading.Event()
        self.held = threading.Event()
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/licences"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def add(self, holder: str, licence_type: str, **record) -> None:
        self.records.setdefault((holder, licence_type), []).append(record)

    def release(self) -> None:
        self._release.set()

    def reset(self) -> None:
        self.release()
        self.records.clear()
        self.calls.clear()
        self.mode = "ok"
        self._release = threading.Event()
        self.held.clear()

    def stop(self) -> None:
        self.release()
        self.server.shutdown()

    def _app(self, environ, start_response):
        request = Request(environ)
        self.calls.append(dict(request.args))
        if self.mode == "slow":
            self.held.set()
            self._release.wait(30)
        if self.mode == "error":
            response = Response("busy", status=503)
        elif self.mode == "garbage":
            response = Response("<html>not json</html>", mimetype="text/html")
        else:
            found = self.records.get((request.args.get("holder", ""),
                                      request.args.get("type", "")), [])
            response = Response(json.dumps({"licences": found}), mimetype="application/json")
        return response(environ, start_response)
