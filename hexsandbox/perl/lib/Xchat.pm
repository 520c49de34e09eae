require HexChat;
1;
