"""Run a notebook headlessly: the one nbclient setup shared by ``vae-course bench``, ``vae-course
slides``, ``vae-course check`` (``checks.notebook_runner``), the exercise tests and
``scripts/run_notebook.py``.

Every run starts a fresh kernel whose working folder is the notebook's own (``cwd``), so relative
paths in a notebook mean the same as when a learner opens it in Jupyter.
"""

from pathlib import Path


def current_env_kernel_manager(kernel_name="python3"):
    """A kernel manager whose ``python3`` kernel is this Python (the current environment), even
    where another ``python3`` kernel is installed system-wide."""
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    class CurrentEnvSpecs(KernelSpecManager):
        def get_kernel_spec(self, name):
            if name == "python3":
                import ipykernel.kernelspec

                return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                              **ipykernel.kernelspec.get_kernel_dict())
            return super().get_kernel_spec(name)

    return AsyncKernelManager(kernel_name=kernel_name, kernel_spec_manager=CurrentEnvSpecs())


def make_client(nb, cwd, timeout=900, kernel_name="python3", client_class=None, **options):
    """An nbclient ``NotebookClient`` (or ``client_class``, a subclass) that runs ``nb`` in place
    from the folder ``cwd``, each cell allowed ``timeout`` seconds; ``options`` go to nbclient
    (e.g. ``allow_errors=True``, ``km=current_env_kernel_manager()``)."""
    from nbclient import NotebookClient

    client_class = client_class or NotebookClient
    return client_class(nb, timeout=timeout, kernel_name=kernel_name,
                        resources={"metadata": {"path": str(Path(cwd))}}, **options)


def execute_notebook(nb, cwd, timeout=900, **options):
    """Run every cell of ``nb`` in place (outputs included) in a fresh kernel; returns ``nb``.

    Raises nbclient's error for the first cell that fails, unless ``allow_errors=True``."""
    make_client(nb, cwd, timeout, **options).execute()
    return nb
