from statsbot.cli import main

raise SystemExit(main())
