/**
 * Build a minimal pure-python wheel with python3's zipfile module, so the
 * installer test needs no index and no network.
 */

const BUILD = `
import base64, hashlib, sys, zipfile
out, name, version, body = sys.argv[1:5]
dist = f"{name}-{version}"
files = {
    f"{name}/__init__.py": body.encode(),
    f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n".encode(),
    f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: syft-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
for path, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(data)}")
record.append(f"{dist}.dist-info/RECORD,,")
files[f"{dist}.dist-info/RECORD"] = ("\\n".join(record) + "\\n").encode()
with zipfile.ZipFile(f"{out}/{dist}-py3-none-any.whl", "w") as z:
    for path, data in files.items():
        z.writestr(path, data)
`;

/** Write `<name>-<version>-py3-none-any.whl` with one module into `dir`. */
export async function buildWheel(dir: string, name: string, version: string, body: string) {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", BUILD, dir, name, version, body],
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}
