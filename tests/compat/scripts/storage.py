# mypy: ignore-errors
"""Storage pools and volumes, write side: the provisioning path of a cloud agent."""

from scriptlib import attempt, open_quiet

POOL = """<pool type='dir'>
  <name>images</name>
  <uuid>33333333-4444-5555-6666-777777777701</uuid>
  <target><path>/var/lib/images</path></target>
</pool>"""
VOL = """<volume>
  <name>{name}</name>
  <allocation unit='M'>{alloc}</allocation>
  <capacity unit='M'>{cap}</capacity>
</volume>"""


def show(pool):
    state, capacity, allocation, available = pool.info()
    print(f"  {pool.name()} state={state} cap={capacity} alloc={allocation} avail={available}")


conn = open_quiet()
pool = conn.storagePoolDefineXML(POOL, 0)
print("defined", pool.name(), pool.isActive(), pool.isPersistent(), pool.autostart())
print("lists", conn.listStoragePools(), conn.listDefinedStoragePools())
print("counts", conn.numOfStoragePools(), conn.numOfDefinedStoragePools())
show(pool)
print("build", pool.build(0))
print("create", pool.create(0))
attempt("create again", lambda: pool.create(0))
show(pool)
print("autostart", pool.setAutostart(1), pool.autostart())
print("by uuid", conn.storagePoolLookupByUUID(pool.UUID()).name())
vol = pool.createXML(VOL.format(name="root.img", alloc=10, cap=100), 0)
print("volume", vol.name(), vol.key(), vol.path())
vtype, capacity, allocation = vol.info()
print("info", vtype, capacity, allocation)
attempt("same name", lambda: pool.createXML(VOL.format(name="root.img", alloc=1, cap=1), 0))
attempt("bad volume xml", lambda: pool.createXML("<volume><name>x</name>", 0))
clone = pool.createXMLFrom(VOL.format(name="clone.img", alloc=1, cap=100), vol, 0)
print("clone", clone.name(), clone.info()[1])
print("volumes", sorted(pool.listVolumes()), pool.numOfVolumes())
print("all volumes", sorted(v.name() for v in pool.listAllVolumes(0)))
print("lookups", pool.storageVolLookupByName("clone.img").path())
print("by key", conn.storageVolLookupByKey(vol.key()).name())
print("by path", conn.storageVolLookupByPath(vol.path()).name())
print("pool of volume", vol.storagePoolLookupByVolume().name())
print("vol xml", "<capacity unit='bytes'>104857600</capacity>" in vol.XMLDesc(0))
show(pool)
print("refresh", pool.refresh(0))
print("delete clone", clone.delete(0))
attempt("deleted", lambda: pool.storageVolLookupByName("clone.img"))
attempt("undefine active", pool.undefine)
attempt("delete active", lambda: pool.delete(0))
print("destroy", pool.destroy(), pool.isActive())
attempt("volumes of inactive", pool.listVolumes)
attempt("destroy again", pool.destroy)
print("delete", pool.delete(0))
print("undefine", pool.undefine())
attempt("gone", lambda: conn.storagePoolLookupByName("images"))
transient = conn.storagePoolCreateXML(POOL.replace("images", "scratch"), 0)
print("transient", transient.name(), transient.isActive(), transient.isPersistent())
print("destroy transient", transient.destroy())
attempt("transient gone", lambda: conn.storagePoolLookupByName("scratch"))
conn.close()
