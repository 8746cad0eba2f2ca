"""The built-in test hypervisor driver (libvirt's ``test:///`` driver, in process).

``test:///default`` is one mock host per process, shared by every connection
to it (objects and events alike), holding exactly the objects libvirt 9.0's
test driver starts with: the running domain ``test``, the network
``default``, the interface ``eth1``, the pool ``default-pool`` and four node
devices. ``test:///abs/path/config.xml`` loads a host from a libvirt test
driver configuration file instead; each such connection has a host of its own.

Modules:

* :mod:`.plugin` - the plugin registration (imports nothing heavy).
* :mod:`.driver` - the connection driver: URI handling, shared default host,
  authentication.
* :mod:`.state` - the host state: domain objects, ids, events, locking.
* :mod:`.hypervisor` / :mod:`.secondary` - the driver tables.
* :mod:`.config` - the default host and the configuration file loader.
* :mod:`.domainxml`, :mod:`.objxml`, :mod:`.xmlutil` - XML parsing and
  libvirt-compatible formatting.
"""
