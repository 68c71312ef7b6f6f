"""Entry point inside the sandbox: ``python -I /worker/inside/__main__.py [--zygote] ...``.

``python -I`` puts neither this folder nor the working directory on ``sys.path``: the folder
that holds this package (read-only in the sandbox) is put there, and the package imported as
``inside``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

if __name__ == "__main__":
    if "--zygote" in sys.argv:
        from inside.zygote import zygote_main

        zygote_main(sys.argv[1:])
    else:
        from inside.worker import main

        main()
