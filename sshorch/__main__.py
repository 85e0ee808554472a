from sshorch.cli import main

main()
