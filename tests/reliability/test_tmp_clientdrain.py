import runpy, sys, os, subprocess, time
def test_clientdrain():
    pid = int(subprocess.check_output(["pgrep", "-f", "server.cli --model tiny --host 127.0.0.1 --port 8311"]).split()[0])
    sys.argv = ["x", str(pid), os.environ.get("MODE", "nodrain")]
    runpy.run_path("/tmp/s5/clientdrain.py", run_name="__main__")
