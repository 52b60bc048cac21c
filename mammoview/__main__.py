from mammoview.cli import main

raise SystemExit(main())
