"""JupyterHub configuration for teaching the VAE course to a class on ONE machine.

Run it as root (JupyterHub starts one server per learner, as that learner's system user):

    VAE_COURSE_MODELS=/srv/vae-course/models jupyterhub -f deploy/jupyterhub_config.py

Before class, train every model once into the shared folder and make it read-only for learners:

    VAE_COURSE_MODELS=/srv/vae-course/models vae-course prepare
    chmod -R a+rX,go-w /srv/vae-course/models

Two modes, chosen by environment variables that ``vae-course hub`` sets:

* **Class mode** (default): learners are the machine's system users, logged in with their
  system password (JupyterHub's PAMAuthenticator) and each server runs as that user
  (LocalProcessSpawner). To log in with your school's accounts instead, set
  ``c.JupyterHub.authenticator_class`` below, e.g. to ``"github"`` or ``"generic-oauth"`` from the
  oauthenticator package: https://jupyterhub.readthedocs.io/en/stable/reference/authenticators.html
  (or use The Littlest JupyterHub, https://tljh.jupyter.org, which does this setup for you).
* **Trial mode — FOR TRIALS ONLY, NEVER FOR A REAL CLASS**: ``VAE_COURSE_HUB_TRIAL_USERS``
  lists made-up learners (``vae-course hub --users 4`` sets it). DummyAuthenticator lets anyone
  who knows the one shared password in; SimpleLocalProcessSpawner runs every learner's server as
  the same system user with a per-learner folder, so learners can read each other's files.

In both modes each learner's server starts through ``python -m vae_course.hub singleuser``,
which creates or updates the learner's own workspace (copies of the course notebooks) as the
learner and then starts the ordinary ``jupyterhub-singleuser``. Learners' kernels read trained
models from ``VAE_COURSE_MODELS`` and never retrain a model that is there.
"""

import os
import sys

c = get_config()  # noqa: F821 (JupyterHub provides get_config)

env = os.environ.get
TRIAL_USERS = [u for u in env("VAE_COURSE_HUB_TRIAL_USERS", "").split(",") if u]
STATE = env("VAE_COURSE_HUB_STATE")  # where the hub keeps its database, secret and pid file
MODELS = env("VAE_COURSE_MODELS", "/srv/vae-course/models")

# --- network: the public address, and two internal ports (the hub's API, the proxy's API)
c.JupyterHub.ip = env("VAE_COURSE_HUB_IP", "")  # "" = every interface (a class server)
c.JupyterHub.port = int(env("VAE_COURSE_HUB_PORT", "8000"))
c.JupyterHub.hub_port = int(env("VAE_COURSE_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env('VAE_COURSE_PROXY_API_PORT', '8001')}"
if env("VAE_COURSE_HUB_PROXY"):  # configurable-http-proxy installed by `vae-course hub` (npm)
    c.ConfigurableHTTPProxy.command = [env("VAE_COURSE_HUB_PROXY")]

# --- state files: all in one folder, so a trial leaves nothing behind when it is deleted
if STATE:
    c.JupyterHub.db_url = f"sqlite:///{os.path.join(STATE, 'jupyterhub.sqlite')}"
    c.JupyterHub.cookie_secret_file = os.path.join(STATE, "jupyterhub_cookie_secret")
    c.ConfigurableHTTPProxy.pid_file = os.path.join(STATE, "jupyterhub-proxy.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every learner's server
c.JupyterHub.cleanup_proxy = True

# --- every learner's server: the course's workspace, then JupyterLab
c.Spawner.cmd = [sys.executable, "-m", "vae_course.hub", "singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {"VAE_COURSE_MODELS": MODELS}
c.Spawner.env_keep = ["PATH", "PYTHONPATH", "LANG", "LC_ALL", "VIRTUAL_ENV",
                      "VAE_COURSE_DATA", "OMP_NUM_THREADS"]
c.Spawner.http_timeout = 120  # first start copies the notebooks; a busy machine is slow
c.Spawner.start_timeout = 120
if hasattr(os, "geteuid") and os.geteuid() == 0 and TRIAL_USERS:
    c.Spawner.args = ["--allow-root"]  # trial servers run as root, like the hub

# --- a measuring robot (``vae-course bench --only class``), only when it sets its token: a
# service that may start and stop learners' servers, read their process ids and reach their
# Jupyter servers. Never set VAE_COURSE_HUB_BENCH_TOKEN for a real class.
if env("VAE_COURSE_HUB_BENCH_TOKEN"):
    c.JupyterHub.services = [{"name": "vae-course-bench",
                              "api_token": env("VAE_COURSE_HUB_BENCH_TOKEN")}]
    c.JupyterHub.load_roles = [{"name": "vae-course-bench", "services": ["vae-course-bench"],
                                "scopes": ["admin:users", "admin:servers", "access:servers"]}]

if TRIAL_USERS:
    # ======================= TRIAL MODE: FOR TRIALS ONLY =======================
    # Anyone with the shared password gets in, and every learner's server runs as the same
    # system user. Never use this for a real class; see the class mode above.
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = env("VAE_COURSE_HUB_TRIAL_PASSWORD")
    c.Authenticator.allowed_users = set(TRIAL_USERS)
    c.Authenticator.admin_users = {TRIAL_USERS[0]} if env("VAE_COURSE_HUB_ADMIN") else set()
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(
        env("VAE_COURSE_HUB_HOMES"), "{username}")
    c.Spawner.notebook_dir = "~"
else:
    # ============================== CLASS MODE =================================
    # Learners are system users; JupyterHub's default PAMAuthenticator checks their password.
    # Replace it with your institution's login (see the pointer at the top of this file).
    c.JupyterHub.spawner_class = "localprocess"
    c.Authenticator.allow_existing_users = True
    c.Authenticator.allowed_users = set(filter(None, env("VAE_COURSE_HUB_LEARNERS", "")
                                               .split(",")))
    c.Spawner.notebook_dir = "~"
