"""fast-cache only: the command line and the TOML config file (--config).
redis-server has its own, different flags and file format."""

import os
import subprocess
import tempfile
import unittest

import fcserver
from fcserver import Server, fast_cache_only, server_path

WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


def write_config(text):
    fd, path = tempfile.mkstemp(suffix=".toml", prefix="fc-itest-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def run_briefly(args):
    return subprocess.run([server_path()] + args, capture_output=True,
                          timeout=10, stdin=subprocess.DEVNULL)


@fast_cache_only
class TestConfigFile(unittest.TestCase):
    def start(self, srv):
        srv.start()
        self.addCleanup(srv.stop_and_check)
        return srv

    def config(self, text):
        path = write_config(text)
        self.addCleanup(os.unlink, path)
        return path

    def test_file_sets_address_threads_password_maxclients(self):
        port = fcserver.free_port()
        path = self.config(
            "# written by test_config.py\n"
            "bind_addr = \"127.0.0.1:%d\"\n"
            "threads = 2  # two workers\n"
            "max_connections = 50\n"
            "requirepass = \"filepass\"\n" % port)
        srv = Server(extra_args=["--config", path], addr_flags=False)
        srv.port = port
        self.start(srv)
        with srv.raw() as c:
            self.assertEqual(c.call("GET", "k"),
                             fcserver.RespError("NOAUTH Authentication "
                                                "required."))
            self.assertEqual(c.call("AUTH", "filepass"), b"OK")
            self.assertEqual(c.call("CONFIG", "GET", "maxclients"),
                             [b"maxclients", b"50"])
            self.assertEqual(c.call("CONFIG", "GET", "port"),
                             [b"port", str(port).encode()])

    def test_flags_override_file(self):
        path = self.config("requirepass = \"filepass\"\n"
                           "max_connections = 50\n")
        srv = self.start(Server(requirepass="flagpass", maxclients=77,
                                extra_args=["--config", path]))
        with srv.raw() as c:
            self.assertEqual(c.call("AUTH", "filepass"),
                             fcserver.RespError(WRONGPASS))
            self.assertEqual(c.call("AUTH", "flagpass"), b"OK")
            self.assertEqual(c.call("CONFIG", "GET", "maxclients"),
                             [b"maxclients", b"77"])

    def test_unknown_key_is_reported_with_file_and_line(self):
        path = self.config("threads = 1\nno_such_key = 5\n")
        p = run_briefly(["--config", path, "--port",
                         str(fcserver.free_port())])
        err = (p.stdout + p.stderr).decode()
        self.assertEqual(p.returncode, 2, err)
        self.assertIn("%s:2: unknown key 'no_such_key'" % path, err)

    def test_missing_file(self):
        p = run_briefly(["--config", "/nonexistent/fc.toml"])
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"/nonexistent/fc.toml", p.stdout + p.stderr)

    def test_bad_flags(self):
        for args, text in ((["--threads", "2000"], "--threads"),
                           (["--port", "70000"], "--port"),
                           (["--io", "kqueue"], "--io"),
                           (["--nosuchflag", "1"], "nosuchflag"),
                           (["positional"], "positional")):
            p = run_briefly(args)
            out = (p.stdout + p.stderr).decode()
            self.assertEqual(p.returncode, 2, (args, out))
            self.assertIn(text, out)

    def test_help_and_version_exit_zero(self):
        p = run_briefly(["--help"])
        self.assertEqual(p.returncode, 0)
        out = p.stdout + p.stderr
        for flag in (b"--bind", b"--port", b"--threads", b"--requirepass",
                     b"--maxclients", b"--config", b"--io"):
            self.assertIn(flag, out)
        p = run_briefly(["--version"])
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"fast-cache-server", p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
