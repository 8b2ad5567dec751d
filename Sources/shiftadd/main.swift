print("shiftadd")
