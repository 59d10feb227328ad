from plastilab.cli import main

main()
