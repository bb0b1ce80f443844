"""End-to-end: the engine's web console. Without its token /console and its data answer 401/403; with
it, a real headless chromium shows services, tasks and a request graph during a release of the demo,
and follows the release to the new revision without reloading."""
import json
import os
import subprocess
import threading
import time
import unittest
import urllib.error
import urllib.request

from chromium import Chromium
from harness import Load, ReleasedEngineTest

# Bounds for what the page must show; generous, so a busy machine passes (each is a deadline on a
# poll, never a wait that asserts).
SHOWN_WITHIN = 120
RELEASE_WITHIN = 300

DATA_PATHS = ["/console", "/console/", "/console/api/state", "/console/api/metrics", "/console/api/metrics?minutes=5",
              "/console/static/console.js", "/console/static/uPlot.iife.min.js", "/console/nothing"]


def poll(what, check, within):
    """check()'s first truthy value, tried until `within` seconds pass; fails naming `what`."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError("%s: not within %d s (last seen: %r)" % (what, within, last))


class ConsoleTest(ReleasedEngineTest):
    def request(self, path, headers=None, method="GET"):
        """(status, headers, body) of a plain HTTP request to the engine's API address, redirects not followed."""
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args):
                return None
        opener = urllib.request.build_opener(NoRedirect)
        req = urllib.request.Request(self.engine.endpoint + path, headers=headers or {}, method=method)
        try:
            with opener.open(req, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def console_url(self):
        out = self.engine.slipway("engine", "console", "--output", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def test_1_without_the_token_nothing_is_served(self):
        info = self.console_url()
        token = info["token"]
        self.assertEqual(info["url"], self.engine.endpoint + "/console?token=" + token)
        text = self.engine.slipway("engine", "console")
        self.assertEqual(text.stdout.strip(), info["url"])
        # The token file is private, like the credentials.
        self.assertEqual(os.stat(os.path.join(self.engine.data_dir, "console-token")).st_mode & 0o777, 0o600)
        wrong = "0" * len(token) if token != "0" * len(token) else "1" * len(token)
        for path in DATA_PATHS:
            status, headers, body = self.request(path)
            self.assertEqual(status, 401, path)
            self.assertNotIn(b"demo-dev", body, path)
            self.assertIn("frame-ancestors 'none'", headers.get("Content-Security-Policy", ""))
            for how in ({"Authorization": "Bearer " + wrong},
                        {"Cookie": "slipway_console_%d=%s" % (self.engine.api_port, wrong)}):
                status, _, body = self.request(path, how)
                self.assertEqual(status, 403, (path, how))
                self.assertNotIn(b"demo-dev", body, path)
            sep = "&" if "?" in path else "?"
            self.assertEqual(self.request(path + sep + "token=" + wrong)[0], 403, path)
        # The SigV4 key opens nothing either: the console is not the API.
        self.assertEqual(self.request("/console/api/state", {"Authorization": "AWS4-HMAC-SHA256 Credential=x"})[0], 401)
        # With the token the data is there, and the URL's token turns into a strict HttpOnly cookie.
        status, headers, body = self.request("/console/api/state", {"Authorization": "Bearer " + token})
        self.assertEqual(status, 200)
        self.assertIn("demo-dev-web", [s["serviceName"] for s in json.loads(body)["services"]])
        status, headers, _ = self.request("/console?token=" + token)
        self.assertEqual(status, 303)
        self.assertEqual(headers["Location"], "/console")
        cookie = headers["Set-Cookie"]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        status, _, page = self.request("/console", {"Cookie": cookie.split(";")[0]})
        self.assertEqual(status, 200)
        self.assertNotIn(b"<script>", page)
        self.assertEqual(self.request("/console/api/state", {"Authorization": "Bearer " + token}, method="POST")[0], 405)

    def page_state(self, browser):
        return browser.evaluate("""(() => {
          if (!document.getElementById('live')) return null;  // still loading
          const rows = (sel) => [...document.querySelectorAll(sel)];
          const chart = document.getElementById('chart-requests');
          return {
            services: rows('#services tr.service').map(r => ({name: r.dataset.name,
                                                              taskdef: r.querySelector('.taskdef').textContent,
                                                              text: r.textContent})),
            tasks: rows('#tasks tr.task').map(r => ({status: r.dataset.status,
                                                     taskdef: r.querySelector('.taskdef').textContent})),
            targets: rows('#targets tr.target').map(r => r.dataset.state),
            events: rows('#events li').length,
            releases: rows('#releases li.release').length,
            requestPoints: chart ? Number(chart.dataset.points) : 0,
            requestTotal: chart ? Number(chart.dataset.total) : 0,
            requestShownUntil: chart ? Number(chart.dataset.shownUntil || 0) : 0,
            live: document.getElementById('live').textContent,
            marker: window.slipwayTestMarker || null,
            sawRollout: window.slipwaySawRollout || false,
          };
        })()""")

    def test_2_a_browser_follows_a_release_live(self):
        svc = self.ecs.describe_services(cluster="demo-dev", services=["demo-dev-web"])["services"][0]
        v1 = svc["taskDefinition"].split("/")[-1]
        family, revision = v1.rsplit(":", 1)
        v2 = "%s:%d" % (family, int(revision) + 1)
        url = self.console_url()["url"]
        browser = Chromium()
        try:
            with Load(self.engine.listener_port, keepalive_clients=1) as load:
                browser.navigate(url)
                # Given the page open during request traffic: services, tasks and a request graph.
                def shown():
                    s = self.page_state(browser)
                    ok = s and (any(x["name"] == "demo-dev-web" and x["taskdef"] == v1 for x in s["services"])
                          and sum(t["status"] == "RUNNING" and t["taskdef"] == v1 for t in s["tasks"]) == 2
                          and s["targets"].count("healthy") == 2 and s["requestPoints"] > 0
                          and s["requestTotal"] > 0 and s["live"] == "live")
                    return s if ok else None
                first = poll("services, tasks, targets and a non-empty request graph shown", shown, SHOWN_WITHIN)
                first_navigations = browser.navigations()
                # The token left the address bar: the page now sits at the bare /console.
                self.assertEqual(first_navigations[-1], self.engine.endpoint + "/console")
                # A marker a reload would wipe, and a watcher for the rollout's IN_PROGRESS state.
                browser.evaluate("""(() => {
                  window.slipwayTestMarker = 'no reload';
                  const services = document.getElementById('services');
                  const look = () => { if (services.textContent.includes('IN_PROGRESS')) window.slipwaySawRollout = true; };
                  new MutationObserver(look).observe(services, {subtree: true, childList: true, characterData: true});
                  look();
                })()""")

                # When v2 is released while the page stays open.
                result = {}
                deploy = threading.Thread(target=lambda: result.update(out=self.engine.deploy("v2")))
                deploy.start()
                try:
                    def updated():
                        s = self.page_state(browser)
                        ok = s and (any(x["name"] == "demo-dev-web" and x["taskdef"] == v2 and "COMPLETED" in x["text"]
                                  and v1 not in x["text"] for x in s["services"])
                              and sum(t["status"] == "RUNNING" and t["taskdef"] == v2 for t in s["tasks"]) == 2
                              and not any(t["status"] == "RUNNING" and t["taskdef"] == v1 for t in s["tasks"]))
                        return s if ok else None
                    final = poll("the page showing v2 (%s) completed" % v2, updated, RELEASE_WITHIN)
                finally:
                    deploy.join()
                out = result["out"]
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            # Then the page updated in place: no navigation since, the marker survived, and it showed
            # the rollout in progress on the way.
            self.assertEqual(browser.navigations(), first_navigations)
            self.assertEqual(final["marker"], "no reload")
            self.assertTrue(final["sawRollout"], "the page never showed the rollout IN_PROGRESS")
            self.assertGreaterEqual(final["releases"], 2)
            # The graph's time axis moves on with the clock (a 10-second step).
            poll("the request graph's time axis moving on",
                 lambda: self.page_state(browser)["requestShownUntil"] > first["requestShownUntil"], SHOWN_WITHIN)
            self.assertEqual(browser.navigations(), first_navigations)
            self.assertGreater(final["events"], 0)
            self.assertGreater(load.total, 0)
            shot = os.environ.get("SLIPWAY_CONSOLE_SCREENSHOT", os.path.join(self.engine.dir, "..", "console.png"))
            browser.screenshot(shot)
            self.assertGreater(os.path.getsize(shot), 10_000)
            print("console screenshot: %s" % os.path.abspath(shot))
        finally:
            browser.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
