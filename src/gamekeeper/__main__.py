from gamekeeper.cli.main import main

main()
