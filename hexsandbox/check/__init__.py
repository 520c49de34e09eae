"""``hexsandbox check``: smoke-test folders of legacy scripts on the emulator,
as pytest items.

* :mod:`.scenario` -- the standard scenario and the plausible command arguments;
* :mod:`.runner` -- one script through it, in its own sandbox;
* :mod:`.verdicts` -- what a result means (verdict, note, JUnit properties);
* :mod:`.collector` -- ``pytest --hexsandbox-check DIR``: each script a test item;
* :mod:`.report` -- results gathered from pytest's reports, the table, JSON;
* :mod:`.frontend` -- the ``hexsandbox check`` command over all of that.

Nothing is imported here: this package is loaded with the pytest plugin by
every pytest run in the Python it is installed in, and the runner pulls in
the sandbox and the emulator; :mod:`.collector` imports it when a check runs.
"""
