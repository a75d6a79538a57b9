"""``python -m provsdk`` runs the command-line tool."""

from provsdk_cli.main import main

if __name__ == "__main__":
    main()
