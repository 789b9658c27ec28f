import subprocess


def test_create_and_connect(make_database):
    db = make_database(replication=True)
    port = db.status["endpoint"].split(":")[1]
    out = subprocess.run(["redis-cli", "-p", port, "-a", db.password, "--no-auth-warning", "INFO", "server"],
                         capture_output=True, text=True)
    assert "redis_version" in out.stdout
